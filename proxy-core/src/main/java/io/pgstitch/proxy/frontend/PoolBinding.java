package io.pgstitch.proxy.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import io.pgstitch.conf.Route;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;
import io.pgstitch.protocol.frontend.Parse;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.proxy.backend.BackendLease;
import io.pgstitch.proxy.backend.SetConfigQuery;
import io.pgstitch.proxy.backend.ShardLogin;
import io.pgstitch.proxy.pool.BindingPolicy;
import io.pgstitch.proxy.pool.ClientSession;
import io.pgstitch.proxy.pool.PoolKey;
import io.pgstitch.proxy.pool.PooledBackend;
import io.pgstitch.proxy.pool.SessionSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Transaction and statement modes: gives the client's backend back to the pool when a transaction is over, and
 * takes one for its next transaction, carrying the session across: before a backend goes, settings the client
 * may have changed are read back from it; before a new one serves, it is given the settings that differ. In
 * session mode the backend stays until the client leaves. Session loop only.
 */
final class PoolBinding {

    private static final Logger log = LoggerFactory.getLogger(PoolBinding.class);

    private final ClientRelay relay;
    private final ClientConnection client;
    private final PoolKey key;
    private final ShardLogin login;
    private final ClientSession session;
    private boolean acquiring;
    private boolean releasing;
    private boolean readingSettings;

    PoolBinding(ClientRelay relay, ClientConnection client, Route route, ShardLogin login, ClientSession session) {
        this.relay = relay;
        this.client = client;
        this.key = PoolKey.session(route, login.user());
        this.login = login;
        this.session = session;
    }

    /** Whether messages can go to the backend now. */
    boolean ready() {
        return relay.backend() != null && !releasing && !acquiring;
    }

    /** A release is being decided on the backend's loop; its answer gives the backend back or keeps it. */
    boolean releasing() {
        return releasing;
    }

    /**
     * Reads a complete Query or Parse before it goes to the backend; returns it, or in its place one that fails
     * with the reason the client's mode refuses it (so the error comes in its place in the stream, and aborts a
     * transaction block as an error of the statement would).
     */
    Frame inspect(Frame frame, Map<String, String> reported) {
        if (!session.needsInspection(frame.content())) {
            return frame;
        }
        boolean query = frame.type() == Query.TYPE;
        Parse parse;
        String text;
        try {
            parse = query ? null : Parse.decodeWith(frame.body(), StandardCharsets.ISO_8859_1);
            text = query ? Query.decodeWith(frame.body(), StandardCharsets.ISO_8859_1).sql() : parse.query();
        } catch (RuntimeException malformed) {
            return frame; // not a statement: PostgreSQL answers it as it would directly
        }
        boolean wasPinned = session.pinnedBy() != null;
        ClientSession.Verdict verdict = session.inspect(text, reported.get("client_encoding"),
                !"off".equals(reported.get("standard_conforming_strings")));
        if (!wasPinned && session.pinnedBy() != null) {
            log.info("client {} keeps its backend until it leaves ({} pooling): it {}", client.id(),
                    session.policy().modeName(), session.pinnedBy());
            client.context().pools().meters().pinned();
        }
        if (verdict.forgetsPreparedStatements()) {
            relay.backend().forgetPreparedStatements();
        }
        if (verdict.refusal() == null) {
            return frame;
        }
        frame.release();
        String raise = "DO $pgstitch$BEGIN RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE = "
                + SetConfigQuery.literal(verdict.refusal()) + ", HINT = " + SetConfigQuery.literal(
                "Use session pooling for this database (pool.mode: session), or avoid the statement.")
                + "; END$pgstitch$";
        ByteBuf out = client.channel().alloc().buffer();
        if (query) {
            new Query(raise).encodeWith(out, StandardCharsets.ISO_8859_1);
        } else {
            new Parse(parse.statement(), raise, new int[0]).encodeWith(out, StandardCharsets.ISO_8859_1);
        }
        return new Frame(out);
    }

    /**
     * A ReadyForQuery reached the client, or a stitched request ended: when the transaction is over and the
     * mode says so, the backend goes back (after a read of the settings the client may have changed).
     */
    void transactionMayHaveEnded(TransactionStatus status) {
        BackendLease lease = relay.backend();
        if (lease == null || releasing || readingSettings || relay.busy() || client.isClosed()) {
            return;
        }
        if (session.policy() instanceof BindingPolicy.Statement && session.pinnedBy() == null
                && status != TransactionStatus.IDLE) { // a block opened in a way the statement check did not see
            client.fatal(PgException.fatal(SqlState.FEATURE_NOT_SUPPORTED,
                    "transaction blocks are not allowed in statement pooling mode"));
            return;
        }
        if (!session.releasesWhenIdle() || status != TransactionStatus.IDLE) {
            return;
        }
        if (session.settingsChanged()) {
            readSettings(lease);
            return;
        }
        releasing = true;
        lease.releaseIfIdle(released -> {
            releasing = false;
            if (released) {
                relay.detached();
            }
            if (client.isClosed()) {
                if (!released) { // the client left while this was decided: the usual way out
                    lease.giveBack(session.leavesPlaceholders());
                    relay.detached();
                }
                return;
            }
            relay.relayPending();
            relay.resumeReading();
        });
    }

    /**
     * Between transactions, named Parse messages and the Sync after them (libpq's PQprepare, which waits for the
     * answer) are answered without a backend: the statements are recorded and prepared on the backend of the Bind
     * or Describe that uses them. Waiting for a backend there could deadlock a client program that drives several
     * connections from one thread (pgbench) while its other connections hold every backend in their transactions.
     * A statement with an error is then reported at its first Bind or Describe instead.
     *
     * @return whether it took frames from the head of {@code pending}
     */
    boolean answerParsesAlone(java.util.ArrayDeque<Frame> pending, Map<String, String> reported) {
        if (relay.backend() != null || session.preparedStatements() == null) {
            return false;
        }
        int parses = 0;
        for (Frame frame : pending) {
            if (frame.type() == 'S' && parses > 0) {
                break;
            }
            if (frame.type() != 'P' || !frame.isComplete() || frame.bodyLength() < 2 || frame.body().getByte(0) == 0) {
                return false; // not named Parses and their Sync
            }
            parses++;
        }
        if (parses == 0 || pending.size() == parses) {
            return false;
        }
        for (int i = 0; i < parses; i++) {
            Frame parse = inspect(pending.poll(), reported);
            try {
                session.preparedStatements().define(parse.content());
            } finally {
                parse.release();
            }
            client.write(client.channel().alloc().buffer(5).writeByte('1').writeInt(4));
        }
        pending.poll().release(); // the Sync
        client.write(ReadyForQuery.of(TransactionStatus.IDLE));
        client.channel().flush();
        return true;
    }

    /** Takes a backend for the client's next transaction; what it sent meanwhile waits in the relay. */
    void bind() {
        if (acquiring || relay.backend() != null) {
            return;
        }
        acquiring = true;
        long since = System.nanoTime();
        client.waiting(since);
        client.context().pools().acquire(client.channel().eventLoop(), key, login)
                .addListener((Future<PooledBackend> acquired) -> bound(acquired, since));
    }

    private void bound(Future<PooledBackend> acquired, long since) {
        acquiring = false;
        if (!acquired.isSuccess()) {
            client.fatal(ShardFailure.noBackend(acquired.cause()));
            return;
        }
        PooledBackend pooled = acquired.getNow();
        if (client.isClosed()) {
            pooled.giveBackUnused();
            return;
        }
        if (!session.canUse(pooled)) { // it holds placeholders this client never defined
            log.debug("{}: closing a backend with another client's placeholder variables", key.describe());
            pooled.discard();
            bind();
            return;
        }
        client.phase(LiveClient.Phase.ACTIVE);
        client.counters().waited(System.nanoTime() - since);
        BackendLease lease = relay.attach(pooled);
        for (String query : session.settings().applyTo(pooled.settings())) {
            lease.send(new Query(query).encodeWith(client.channel().alloc(), StandardCharsets.ISO_8859_1),
                    new SettingsAnswer(false)::frame);
        }
        session.settings().copyTo(pooled.settings());
        if (relay.hasPending()) {
            relay.relayPending();
        } else { // what it was taken for was answered without it (see answerParsesAlone)
            transactionMayHaveEnded(TransactionStatus.IDLE);
        }
    }

    private void readSettings(BackendLease lease) {
        readingSettings = true;
        SettingsAnswer answer = new SettingsAnswer(true);
        lease.send(new Query(session.takeSettingsQuery()).encodeWith(client.channel().alloc(),
                StandardCharsets.ISO_8859_1), answer::frame);
        lease.flush();
    }

    /** The answer to pgstitch's own settings query (a read, or the settings given to a new backend). */
    private final class SettingsAnswer {

        private final boolean read;
        private final List<SessionSettings.Row> rows = new ArrayList<>();
        private String error;

        SettingsAnswer(boolean read) {
            this.read = read;
        }

        void frame(Frame frame) {
            try {
                switch (frame.type()) {
                    case 'D' -> {
                        if (read) {
                            rows(frame.content());
                        }
                    }
                    case ErrorResponse.TYPE -> error = ErrorResponse.decode(frame.body()).message();
                    case ReadyForQuery.TYPE -> done(ReadyForQuery.decode(frame.body()).status());
                    default -> {
                    }
                }
            } finally {
                frame.release();
            }
        }

        /** DataRows (one or more in a frame) of (name, value, is placeholder). */
        private void rows(ByteBuf content) {
            int at = content.readerIndex();
            while (at < content.writerIndex()) {
                int length = content.getInt(at + 1);
                int column = at + 7;
                String[] values = new String[3];
                for (int i = 0; i < 3; i++) {
                    int size = content.getInt(column);
                    values[i] = size < 0 ? null : content.toString(column + 4, size, StandardCharsets.ISO_8859_1);
                    column += 4 + Math.max(size, 0);
                }
                rows.add(new SessionSettings.Row(values[0], values[1], "t".equals(values[2])));
                at += 1 + length;
            }
        }

        private void done(TransactionStatus status) {
            if (client.isClosed()) {
                return;
            }
            if (error != null) {
                client.fatal(PgException.fatal(SqlState.CONNECTION_FAILURE, "pgstitch could not "
                        + (read ? "read" : "give a backend") + " the session's settings: " + error));
                return;
            }
            if (!read) {
                transactionMayHaveEnded(status);
                return;
            }
            readingSettings = false;
            session.settingsRead(rows);
            BackendLease lease = relay.backend();
            if (lease != null) {
                session.settings().copyTo(lease.pooled().settings());
            }
            transactionMayHaveEnded(status);
        }
    }
}
