package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.DataRows;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.proxy.backend.BackendLease;
import io.pgstitch.proxy.backend.BackendListener;
import io.pgstitch.proxy.pool.PooledBackend;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One RPC step of a {@link StitchedRequest} on its connection: a new one from the RPC pool, in autocommit, given
 * back when the step is answered, or the {@link KeptConnection}, which takes note of the cursors and portals the
 * step leaves on it. A new call first reads the session's {@code search_path} (from its ParameterStatus when the
 * server reports it, else with {@code SHOW}, which takes no snapshot), and the connection takes it, with every
 * reported setting the session changed since its startup, before the call, so that the call runs, and its
 * results are formatted, as in the session ({@link CallSettings}). Its answers reach the client as they come, but
 * its ReadyForQuery, the ParseComplete of a replayed Parse and the CloseComplete of the proxy's own Close
 * ({@link CallAnswers}). Session loop only.
 */
final class RpcCall implements BackendListener {

    private enum Phase {
        /** Reading the session's search_path on the session backend; nothing is shown. */
        SEARCH_PATH,
        /** Waiting for an RPC connection. */
        ACQUIRING,
        /** The connection takes the session's settings (and BEGIN, PREPAREs); only an error is shown. */
        PREAMBLE,
        /** The call runs: its frames go to the client; its ReadyForQuery, or its last answer, ends it. */
        RUNNING,
        /** A call ended by a Flush failed: the kept connection gets the Sync it owes first; nothing is shown. */
        SYNCING,
        /** Answered or abandoned: whatever still arrives is released. */
        DONE
    }

    private final StitchedRequest.Session session;
    private final StitchStep.OnRpc call;
    private final KeptConnection kept;
    private final TransactionWatch watch;
    private final RpcMetrics metrics;
    /** The call runs on the kept connection. */
    private final boolean onKept;
    /** The session was in a transaction block when the call was due: the kept connection opens one too. */
    private final boolean sessionInBlock;
    /** Told once, when the call is over, whether it failed (its error then reached the client). */
    private final Consumer<Boolean> done;
    private final long startedNanos = System.nanoTime();
    private Phase phase;
    private boolean failed;
    private boolean callSent;
    private String searchPath;
    private BackendLease rpcBackend;
    /** The call ends with a Flush, not a Sync: it is over when each of its messages is answered. */
    private boolean unsyncedCall;
    private CallAnswers answers;
    /** The client cancelled before the call reached an RPC connection: it must not start. */
    private boolean cancelled;
    /** Where the call's text starts in the client's Query, in characters (see {@link RelayedErrors}). */
    private final int positionOffset;

    RpcCall(StitchedRequest.Session session, StitchStep.OnRpc call, KeptConnection kept, TransactionWatch watch,
            RpcMetrics metrics, boolean onKept, boolean sessionInBlock, int positionOffset, Consumer<Boolean> done) {
        this.session = session;
        this.call = call;
        this.kept = kept;
        this.watch = watch;
        this.metrics = metrics;
        this.onKept = onKept;
        this.sessionInBlock = sessionInBlock;
        this.positionOffset = positionOffset;
        this.done = done;
    }

    /** Starts a new call: the session's search_path first. */
    void start() {
        String reported = session.reportedParameter("search_path");
        if (reported != null) {
            acquire(reported);
            return;
        }
        phase = Phase.SEARCH_PATH;
        searchPath = null;
        session.sessionBackend().sendAll(List.of(new Query(CallSettings.READ_SEARCH_PATH).encode(session.alloc())),
                this::readSearchPath);
    }

    /** Goes on with a cursor or portal on the kept connection: no settings, nothing to replay. */
    void resume() {
        rpcBackend = kept.lease();
        startCall(false);
    }

    private void readSearchPath(Frame frame) {
        if (phase != Phase.SEARCH_PATH) {
            frame.release();
            return;
        }
        byte type = frame.type();
        if (type == 'D' && frame.isComplete()) { // a search_path too long to come whole is not taken over
            searchPath = DataRows.firstColumn(frame.body(), StandardCharsets.UTF_8);
        }
        frame.release(); // an error (none is expected) leaves the RPC connection's default search_path
        if (type == ReadyForQuery.TYPE) {
            acquire(searchPath);
        }
    }

    private void acquire(String path) {
        searchPath = path;
        if (onKept && kept.active()) {
            rpcBackend = kept.lease();
            startCall(true);
            return;
        }
        phase = Phase.ACQUIRING;
        session.acquireRpcBackend().addListener((Future<PooledBackend> acquired) -> acquired(acquired));
    }

    private void acquired(Future<PooledBackend> acquired) {
        if (phase != Phase.ACQUIRING) { // abandoned while waiting
            if (acquired.isSuccess()) {
                acquired.getNow().giveBackUnused();
            }
            return;
        }
        if (cancelled && acquired.isSuccess()) {
            acquired.getNow().giveBackUnused();
        }
        if (cancelled || !acquired.isSuccess()) {
            Throwable cause = acquired.cause();
            session.toClient(cancelled ? PgException.error(SqlState.QUERY_CANCELED,
                    "canceling statement due to user request") : cause instanceof PgException pg ? pg.asError()
                    : PgException.error(SqlState.CONNECTION_FAILURE, "no RPC connection for " + call.function()
                    + ": " + cause));
            failed = true;
            end(RpcMetrics.Outcome.ERROR);
            return;
        }
        rpcBackend = BackendLease.attach(acquired.getNow(), onKept ? kept : this, session.loop(),
                session.connector());
        if (onKept) {
            kept.keep(rpcBackend);
        }
        startCall(true);
    }

    /**
     * Sends the call, after its preamble: for a new call the session's settings, BEGIN when the kept connection
     * must open a block like the session's, and the PREPAREs the call EXECUTEs.
     */
    private void startCall(boolean newCall) {
        if (onKept) {
            kept.use(this);
        }
        rpcBackend.channel().config().setAutoRead(session.clientWritable());
        List<ByteBuf> preamble = new ArrayList<>(3);
        String settingsQuery = newCall ? CallSettings.query(session, searchPath, rpcBackend.parameters()) : null;
        if (settingsQuery != null) {
            preamble.add(new Query(settingsQuery).encode(session.alloc()));
        }
        if (newCall && onKept && sessionInBlock && !kept.inBlock()) {
            preamble.add(new Query("BEGIN").encode(session.alloc()));
            kept.begin(watch.blockEnds());
        }
        preamble.addAll(call.preamble());
        answers = new CallAnswers(preamble.size(), call);
        phase = preamble.isEmpty() ? Phase.RUNNING : Phase.PREAMBLE;
        for (ByteBuf query : preamble) {
            rpcBackend.send(query, this::preambleFrame);
        }
        unsyncedCall = onKept && call.lifetime().flushed() && !kept.inBlock();
        callSent = true;
        List<ByteBuf> messages = new ArrayList<>(call.messages());
        if (unsyncedCall) { // the kept connection's implicit transaction, and its portals, live until the Sync
            messages.add(KeptConnection.flush(session.alloc()));
            kept.sentUnsynced();
        } else {
            messages.add(Sync.INSTANCE.encode(session.alloc()));
        }
        rpcBackend.sendAll(messages, this::rpcFrame);
    }

    /** The answer to what the RPC connection runs before the call: only an error reaches the client. */
    private void preambleFrame(Frame frame) {
        if (phase == Phase.PREAMBLE && frame.type() == ErrorResponse.TYPE && answers.firstPreambleError()) {
            failed = true;
            session.toClient(RelayedErrors.rewritten(frame.content(), true, 0, session.alloc())); // PREPARE's
            return;
        }
        if (phase == Phase.PREAMBLE && frame.type() == ReadyForQuery.TYPE && answers.preambleAnswered()) {
            phase = Phase.RUNNING;
        }
        frame.release();
    }

    /**
     * A frame of the RPC call: the client's, but its ReadyForQuery, the ParseComplete of a replayed Parse and the
     * CloseComplete of the proxy's own Close; after a failed preamble nothing (it would only repeat the failure).
     */
    private void rpcFrame(Frame frame) {
        byte type = frame.type();
        if (phase != Phase.RUNNING) {
            frame.release();
            return;
        }
        if (type == ReadyForQuery.TYPE) {
            frame.release();
            callAnswered();
            return;
        }
        boolean last = unsyncedCall && answers.lastAnswer(type);
        if (answers.preambleFailed() || answers.swallows(type)) {
            frame.release();
        } else if (type == ErrorResponse.TYPE) {
            failed = true;
            session.toClient(relayed(frame));
            last = unsyncedCall; // nothing more comes until a Sync
        } else {
            session.toClient(frame);
        }
        if (last) {
            callAnswered();
        }
    }

    /** The call is answered: its connection goes back, or the kept connection takes note of what lives on. */
    private void callAnswered() {
        BackendLease used = rpcBackend;
        rpcBackend = null;
        if (!onKept) {
            used.giveBack(false);
            end(failed ? RpcMetrics.Outcome.ERROR : RpcMetrics.Outcome.OK);
            return;
        }
        kept.unuse();
        StitchStep.Lifetime lifetime = call.lifetime();
        if (!failed) {
            if (lifetime.declares() != null) {
                kept.add(lifetime.declares(), call.function());
            }
            if (kept.inBlock() || unsyncedCall) {
                lifetime.portals().forEach(portal -> kept.add(portal, call.function()));
            }
            if (lifetime.closes() != null) {
                kept.remove(lifetime.closes());
            }
        }
        if (unsyncedCall && failed) { // it skips until a Sync: the client's batch is over for it
            phase = Phase.SYNCING;
            kept.sync(session.alloc(), () -> {
                if (phase == Phase.SYNCING) {
                    end(RpcMetrics.Outcome.ERROR);
                }
            });
            return;
        }
        if (!unsyncedCall) {
            kept.synced();
        }
        kept.giveBackIfIdle();
        end(failed ? RpcMetrics.Outcome.ERROR : RpcMetrics.Outcome.OK);
    }

    private void end(RpcMetrics.Outcome outcome) {
        phase = Phase.DONE;
        if (!callSent) {
            call.release();
        }
        metrics.record(outcome, Duration.ofNanos(System.nanoTime() - startedNanos));
        done.accept(failed);
    }

    /** The RPC connection's own parameter changes and notifications are not the client's. */
    @Override
    public void response(Frame frame) {
        frame.release();
    }

    @Override
    public void backendReadComplete() {
        session.flushClient();
    }

    @Override
    public void backendWritabilityChanged(boolean writable) {
        // a call is a few small messages: nothing to hold back
    }

    @Override
    public void backendClosed() {
        if (rpcBackend == null || phase == Phase.DONE) {
            return;
        }
        if (!failed) {
            session.toClient(PgException.error(SqlState.CONNECTION_FAILURE, "RPC connection to "
                    + rpcBackend.connection().describe() + " closed unexpectedly during " + call.function()));
            failed = true;
        }
        BackendLease lost = rpcBackend;
        rpcBackend = null;
        if (!onKept) { // the kept connection gives itself back
            lost.giveBack(true);
        }
        end(RpcMetrics.Outcome.ERROR);
    }

    @Override
    public void backendFailed(Throwable cause) {
        if (rpcBackend != null) {
            rpcBackend.channel().close(); // backendClosed() then tells the client
        }
    }

    /** Forwards the client's cancel to the RPC call under way, or stops one still waiting for its connection. */
    void cancel() {
        if (rpcBackend != null) {
            rpcBackend.cancel(session.loop());
        } else if (phase == Phase.SEARCH_PATH || phase == Phase.ACQUIRING) {
            cancelled = true;
        }
    }

    void clientWritabilityChanged(boolean writable) {
        if (rpcBackend != null) {
            rpcBackend.channel().config().setAutoRead(writable);
        }
    }

    /**
     * The client left: releases what was not sent; a call under way is cancelled by its pool release (the kept
     * connection is the router's to release).
     */
    void abandon() {
        if (phase == Phase.DONE) {
            return;
        }
        phase = Phase.DONE;
        if (rpcBackend != null && !onKept) {
            rpcBackend.giveBack(false);
        }
        rpcBackend = null;
        if (!callSent) {
            call.release();
        }
        metrics.record(RpcMetrics.Outcome.ERROR, Duration.ofNanos(System.nanoTime() - startedNanos));
    }

    /** An error of the call, as the client sees it ({@link RelayedErrors}). */
    private ByteBuf relayed(Frame frame) {
        return RelayedErrors.rewritten(frame.content(), true, positionOffset, session.alloc());
    }
}
