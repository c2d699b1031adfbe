package io.pgstitch.proxy.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.ParameterStatus;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.proxy.backend.BackendListener;
import io.pgstitch.proxy.backend.ShardErrors;
import io.pgstitch.proxy.pool.ClientSession;
import io.pgstitch.proxy.rpc.RpcRouter;

import java.util.HashMap;
import java.util.Map;

/**
 * What the session backend says, on its way to the client, and the little the relay must learn from it: the
 * parameters it reported, whether it waits for the client's CopyData, whether an error came since the last
 * ReadyForQuery, and whether it said FATAL (then it is closed, not reused). Session loop only.
 */
final class BackendEvents implements BackendListener {

    private final ClientRelay relay;
    private final ClientConnection client;
    private final Channel channel;
    private final PoolBinding binding;
    private final ClientSession session;
    /** Null when no RPC function is configured. */
    private final RpcRouter router;
    /** The backend's parameters as last reported (ParameterStatus), for standard_conforming_strings and more. */
    private final Map<String, String> reported = new HashMap<>();
    /** Between the backend's CopyInResponse (or the client's first CopyData) and the end of the COPY. */
    private boolean copyIn;
    /** An ErrorResponse answered the client's messages since the last ReadyForQuery. */
    private boolean errorSinceSync;
    private boolean backendSentFatal;

    BackendEvents(ClientRelay relay, ClientConnection client, PoolBinding binding, ClientSession session,
                  RpcRouter router) {
        this.relay = relay;
        this.client = client;
        this.channel = client.channel();
        this.binding = binding;
        this.session = session;
        this.router = router;
    }

    Map<String, String> reported() {
        return reported;
    }

    boolean copyIn() {
        return copyIn;
    }

    /** The client's own COPY messages: CopyDone and CopyFail end its side, CopyData means it is in one. */
    void clientSent(byte type) {
        if (type == 'c' || type == 'f') {
            copyIn = false;
        } else if (type == 'd') { // perhaps before the backend's answer is read: what the client sends next is
            copyIn = true;        // the COPY's (PostgreSQL fails the COPY with it)
        }
    }

    /** Whether an error came since the last ReadyForQuery; a stitched request starting now answers its Sync. */
    boolean takeErrorSinceSync() {
        boolean error = errorSinceSync;
        errorSinceSync = false;
        return error;
    }

    /** Whether the backend must be closed rather than reused. */
    boolean backendSentFatal() {
        return backendSentFatal;
    }

    /** The client shut down its writing side during COPY FROM STDIN: as PostgreSQL, the session ends. */
    void endCopyWithoutClient() {
        client.fatal(PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                "unexpected EOF on client connection during COPY FROM STDIN"));
    }

    /** The answer to a client's own request: straight to the client. */
    void clientResponse(Frame frame) {
        if (router != null) {
            router.observe(frame);
        }
        byte type = frame.type();
        if (type == 'G') { // CopyInResponse: the backend now waits for the client's CopyData
            copyIn = true;
            if (relay.inputIsShut()) { // which a client that shut down its writing side will never send
                client.write(frame.content());
                endCopyWithoutClient();
                return;
            }
        } else if (type == ReadyForQuery.TYPE) {
            copyIn = false;
            errorSinceSync = false;
            ReadyForQuery.TransactionStatus status = ReadyForQuery.decode(frame.body()).status();
            client.write(frame.content());
            binding.transactionMayHaveEnded(status);
            return;
        } else if (type == ErrorResponse.TYPE) {
            errorSinceSync = true;
            ByteBuf named = noteFatal(frame);
            if (named != null) {
                client.write(named);
                return;
            }
        }
        client.write(frame.content());
    }

    /**
     * A FATAL error means the backend is gone: it is closed, not reused, and the client is told which shard said
     * it (null: relay the frame as it is). Releases a malformed frame.
     */
    private ByteBuf noteFatal(Frame frame) {
        try {
            ErrorResponse error = ErrorResponse.decode(frame.body());
            if (!error.isFatal()) {
                return null;
            }
            backendSentFatal = true;
            ByteBuf named = ShardErrors.naming(error, relay.backend().connection().describe())
                    .encode(channel.alloc());
            frame.release();
            return named;
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
    }

    /** Connection-level frames: ParameterStatus, notifications, and whatever comes while nothing is owed. */
    @Override
    public void response(Frame frame) {
        byte type = frame.type();
        if (type == 'S') {
            ParameterStatus parameter = ParameterStatus.decode(frame.body()); // checked when it was read
            String previous = reported.put(parameter.name(), parameter.value());
            if (session.policy().releasesWhenIdle() && parameter.value().equals(previous)) {
                frame.release(); // a backend taking on the client's settings: the client knows them
                return;
            }
        } else if (type == ErrorResponse.TYPE) {
            ByteBuf named = noteFatal(frame);
            if (named != null) {
                if (relay.started() && !client.isClosed()) {
                    client.write(named);
                } else {
                    named.release();
                }
                return;
            }
        } else if (type == ReadyForQuery.TYPE) { // nobody asked for it: relayed, it would put the client out of step
            frame.release();
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "sent a ReadyForQuery nobody asked for");
        }
        if (!relay.started() || client.isClosed()) {
            frame.release(); // the client learns the parameters when it is logged in
            return;
        }
        client.write(frame.content());
    }

    @Override
    public void backendReadComplete() {
        if (relay.started()) {
            channel.flush();
        }
    }

    @Override
    public void backendWritabilityChanged(boolean writable) {
        if (relay.started() && !client.isClosed()) {
            channel.config().setAutoRead(writable && !relay.hasPending());
        }
    }

    @Override
    public void backendClosed() {
        if (client.isClosed()) {
            return;
        }
        if (backendSentFatal) { // the client already has the server's own reason
            client.close();
        } else {
            client.fatal(ShardFailure.closed(relay.backend().connection().describe()));
        }
    }

    @Override
    public void backendFailed(Throwable cause) {
        if (client.isClosed()) {
            return;
        }
        backendSentFatal = true; // the backend's state is unknown: it is closed, not reused
        client.fatal(ShardFailure.failed(relay.backend().connection().describe(), cause));
    }
}
