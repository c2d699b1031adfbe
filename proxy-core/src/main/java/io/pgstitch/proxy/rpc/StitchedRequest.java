package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import io.pgstitch.conf.RpcInTransaction;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.ErrorField;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;
import io.pgstitch.protocol.frontend.Query;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.pgstitch.protocol.backend.BackendMessage;
import io.pgstitch.proxy.backend.BackendConnector;
import io.pgstitch.proxy.backend.BackendLease;
import io.pgstitch.proxy.backend.BackendListener;
import io.pgstitch.proxy.backend.ResponseTarget;
import io.pgstitch.proxy.backend.SetConfigQuery;
import io.pgstitch.proxy.pool.PooledBackend;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One client request that pgstitch splits. Its steps run strictly in order, each on the session backend or on
 * an RPC connection of its own; every result reaches the client in statement order; the ReadyForQuery ending
 * each step is swallowed, and one ReadyForQuery carrying the session backend's transaction status ends the
 * response. The first error stops the request, as in PostgreSQL. Session loop only.
 *
 * <p>Before an RPC step: a session inside a transaction block gets 25001 ({@code rpc.in_transaction: reject});
 * the session's {@code search_path} is read (from its ParameterStatus when the server reports it, else with a
 * query on the session backend) and set on the RPC connection before the call, with every reported setting the
 * session changed since its startup ({@code SET application_name}, {@code TimeZone}, {@code DateStyle}...), so
 * that the call runs, and its results are formatted, as in the session.
 */
public final class StitchedRequest implements BackendListener {

    /** What a stitched request needs of its client session; all on the session's loop. */
    public interface Session {
        BackendLease sessionBackend();

        EventLoop loop();

        BackendConnector connector();

        boolean clientWritable();

        String reportedParameter(String name);

        Future<PooledBackend> acquireRpcBackend();

        /** Passes a backend frame on to the client (unflushed); takes it. */
        void toClient(Frame frame);

        /** Writes a complete message to the client (unflushed); takes it. */
        void toClient(ByteBuf message);

        void toClient(BackendMessage message);

        default void toClient(PgException error) {
            toClient(error.toErrorResponse());
        }

        void flushClient();

        ByteBufAllocator alloc();

        /**
         * The stitched request is answered: the requests that waited behind it go on.
         *
         * @param skipUntilSync it ran at a Flush and failed: the client's messages up to its Sync are skipped
         */
        void stitchedRequestDone(boolean skipUntilSync);
    }

    /** Where the request stands. */
    private enum Phase {
        /** Made, waiting for the session backend to answer what the client sent before it. */
        WAITING,
        /** A step runs on the session backend: its frames go to the client, its ReadyForQuery ends the step. */
        SESSION,
        /** Reading the session's search_path on the session backend for the RPC call due next; nothing is shown. */
        SEARCH_PATH,
        /** Waiting for an RPC connection. */
        ACQUIRING,
        /** The RPC connection takes the session's search_path and settings; nothing of it reaches the client. */
        RPC_PREAMBLE,
        /** The RPC step runs: its frames go to the client, its ReadyForQuery ends the step. */
        RPC,
        /** Answered or abandoned: whatever still arrives is released. */
        DONE
    }

    private static final String READ_SEARCH_PATH = "SELECT pg_catalog.current_setting('search_path')";
    /** Settings a client may change with SET that PostgreSQL reports back (ParameterStatus), plus search_path. */
    private static final List<String> PROPAGATED = List.of("search_path", "application_name", "DateStyle",
            "IntervalStyle", "TimeZone", "client_encoding", "standard_conforming_strings");

    private final Session session;
    private final ArrayDeque<StitchStep> steps;
    private final RpcSettings settings;
    private final RpcMetrics metrics;
    /** False for a plan run at a client's Flush: its Sync, and the ReadyForQuery, come later. */
    private final boolean answersSync;
    private Phase phase = Phase.WAITING;
    private boolean failed;
    /** The RPC step under way; its messages are still this request's until sent. */
    private StitchStep.OnRpc call;
    private boolean callSent;
    private long callStartedNanos;
    private String searchPath;
    private BackendLease rpcBackend;
    private int parsesToSwallow;
    private int closesToSwallow;
    /** The client cancelled before the call reached an RPC connection: it must not start. */
    private boolean cancelled;

    public StitchedRequest(Session session, List<StitchStep> steps, boolean answersSync, RpcSettings settings,
                    RpcMetrics metrics) {
        this.session = session;
        this.answersSync = answersSync;
        this.steps = new ArrayDeque<>(steps);
        this.settings = settings;
        this.metrics = metrics;
    }

    /**
     * Runs the first step; the session backend has answered everything sent before.
     *
     * @param failedBefore messages of this extended-protocol batch forwarded before it was held already failed
     */
    public void start(boolean failedBefore) {
        failed = failedBefore;
        next();
    }

    private void next() {
        StitchStep step = steps.poll();
        while (failed && step != null
                && !(step instanceof StitchStep.OnSession onSession && onSession.evenAfterError())) {
            step.release(); // the first error stopped the request
            step = steps.poll();
        }
        if (step == null) {
            finish();
        } else if (step instanceof StitchStep.OnRpc rpc) {
            beginCall(rpc);
        } else {
            runOnSession(step.messages());
        }
    }

    private void runOnSession(List<ByteBuf> messages) {
        phase = Phase.SESSION;
        send(session.sessionBackend(), messages, this::sessionFrame);
        session.sessionBackend().whenAnswered(() -> {
            if (phase == Phase.SESSION) {
                next();
            }
        });
    }

    /** Sends and flushes {@code messages}, which it takes, their answers going to {@code owner}. */
    private static void send(BackendLease backend, List<ByteBuf> messages, ResponseTarget owner) {
        for (ByteBuf message : messages) {
            backend.send(message, owner);
        }
        backend.flush();
    }

    /** A frame of the session backend answering a step of this request: the client's, but its ReadyForQuery. */
    private void sessionFrame(Frame frame) {
        if (phase != Phase.SESSION || frame.type() == ReadyForQuery.TYPE) {
            frame.release();
            return;
        }
        if (frame.type() == ErrorResponse.TYPE) {
            failed = true;
        }
        session.toClient(frame);
    }

    private void beginCall(StitchStep.OnRpc step) {
        call = step;
        callSent = false;
        callStartedNanos = System.nanoTime();
        TransactionStatus status = session.sessionBackend().status();
        if (status != TransactionStatus.IDLE && settings.inTransaction() == RpcInTransaction.REJECT) {
            reject(status);
            return;
        }
        String reported = session.reportedParameter("search_path");
        if (reported != null || status == TransactionStatus.FAILED) { // a failed transaction would refuse the query
            acquire(reported);
            return;
        }
        phase = Phase.SEARCH_PATH;
        searchPath = null;
        send(session.sessionBackend(), List.of(new Query(READ_SEARCH_PATH).encode(session.alloc())),
                this::readSearchPath);
    }

    private void readSearchPath(Frame frame) {
        if (phase != Phase.SEARCH_PATH) {
            frame.release();
            return;
        }
        byte type = frame.type();
        if (type == 'D' && frame.isComplete()) { // a search_path too long to come whole is not taken over
            searchPath = firstColumn(frame.body());
        }
        frame.release(); // an error (none is expected) leaves the RPC connection's default search_path
        if (type == ReadyForQuery.TYPE) {
            acquire(searchPath);
        }
    }

    /**
     * Refuses the RPC call of a session inside a transaction block. In an open transaction the session backend
     * raises the error itself, so that the transaction is aborted as by any other error; in a failed one it
     * would only say the transaction is aborted, so the proxy answers.
     */
    private void reject(TransactionStatus status) {
        PgException error = PgException.error(SqlState.ACTIVE_SQL_TRANSACTION, "RPC function " + call.function()
                        + " cannot run inside a transaction block")
                .withHint("pgstitch runs it on a separate connection, which can neither see this transaction's"
                        + " uncommitted work nor wait for its locks. COMMIT or ROLLBACK first"
                        + " (or set rpc.in_transaction: isolate).");
        endCall(RpcMetrics.Outcome.REJECTED);
        if (status == TransactionStatus.IN_TRANSACTION) {
            runOnSession(List.of(new Query(raise(error)).encode(session.alloc())));
        } else {
            session.toClient(error);
            failed = true;
            next();
        }
    }

    private void acquire(String path) {
        searchPath = path;
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
            endCall(RpcMetrics.Outcome.ERROR);
            next();
            return;
        }
        rpcBackend = BackendLease.attach(acquired.getNow(), this, session.loop(), session.connector());
        rpcBackend.channel().config().setAutoRead(session.clientWritable());
        String preamble = settingsOfTheSession(rpcBackend.parameters());
        phase = preamble == null ? Phase.RPC : Phase.RPC_PREAMBLE;
        if (preamble != null) {
            rpcBackend.send(new Query(preamble).encode(session.alloc()), this::preambleFrame);
        }
        parsesToSwallow = call.injectedParses();
        closesToSwallow = call.injectedCloses();
        callSent = true;
        send(rpcBackend, call.messages(), this::rpcFrame);
    }

    /** A query setting what differs between the session and the RPC connection, or null. */
    private String settingsOfTheSession(Map<String, String> rpcParameters) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String name : PROPAGATED) {
            String value = name.equals("search_path") ? searchPath : session.reportedParameter(name);
            if (value != null && !value.equals(rpcParameters.get(name))) {
                settings.put(name, value);
            }
        }
        return SetConfigQuery.of(settings);
    }

    /** The answer to the settings the RPC connection takes before the call: only an error reaches the client. */
    private void preambleFrame(Frame frame) {
        if (phase == Phase.RPC_PREAMBLE && frame.type() == ErrorResponse.TYPE) {
            failed = true;
            session.toClient(downgraded(frame));
            return;
        }
        if (phase == Phase.RPC_PREAMBLE && frame.type() == ReadyForQuery.TYPE) {
            phase = Phase.RPC;
        }
        frame.release();
    }

    /** A frame of the RPC call: the client's, but its ReadyForQuery and the ParseComplete of replayed Parses. */
    private void rpcFrame(Frame frame) {
        byte type = frame.type();
        if (phase != Phase.RPC) {
            frame.release();
        } else if (type == ReadyForQuery.TYPE) {
            frame.release();
            BackendLease done = rpcBackend;
            rpcBackend = null;
            done.giveBack(false);
            endCall(failed ? RpcMetrics.Outcome.ERROR : RpcMetrics.Outcome.OK);
            next();
        } else if (type == '1' && parsesToSwallow > 0) {
            parsesToSwallow--; // the ParseComplete of a Parse the proxy replayed
            frame.release();
        } else if (type == '3' && closesToSwallow > 0) {
            closesToSwallow--; // the CloseComplete of the proxy's own Close, last before the Sync
            frame.release();
        } else if (type == ErrorResponse.TYPE) {
            failed = true;
            session.toClient(downgraded(frame));
        } else {
            session.toClient(frame);
        }
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
        lost.giveBack(true);
        endCall(RpcMetrics.Outcome.ERROR);
        next();
    }

    @Override
    public void backendFailed(Throwable cause) {
        if (rpcBackend != null) {
            rpcBackend.channel().close(); // backendClosed() then tells the client
        }
    }

    /** Forwards the client's cancel to the RPC call under way, or stops one still waiting for its connection. */
    public void cancel() {
        if (rpcBackend != null) {
            rpcBackend.cancel(session.loop());
        } else if (phase == Phase.SEARCH_PATH || phase == Phase.ACQUIRING) {
            cancelled = true;
        }
    }

    public void clientWritabilityChanged(boolean writable) {
        if (rpcBackend != null) {
            rpcBackend.channel().config().setAutoRead(writable);
        }
    }

    /** The client left: releases what was not sent; an RPC call under way is cancelled by its pool release. */
    public void abandon() {
        if (phase == Phase.DONE) {
            return;
        }
        phase = Phase.DONE;
        steps.forEach(StitchStep::release);
        steps.clear();
        if (rpcBackend != null) {
            rpcBackend.giveBack(false);
            rpcBackend = null;
        }
        if (call != null) {
            endCall(RpcMetrics.Outcome.ERROR);
        }
    }

    private void endCall(RpcMetrics.Outcome outcome) {
        if (!callSent) {
            call.release();
        }
        metrics.record(outcome, Duration.ofNanos(System.nanoTime() - callStartedNanos));
        call = null;
    }

    private void finish() {
        phase = Phase.DONE;
        steps.forEach(StitchStep::release);
        steps.clear();
        if (answersSync) {
            session.toClient(ReadyForQuery.of(session.sessionBackend().status()));
        }
        session.flushClient();
        // run at a Flush and failed: as in PostgreSQL, what the client sends until its Sync is skipped
        session.stitchedRequestDone(failed && !answersSync);
    }

    /** An RPC connection's FATAL ends its call, not the client's session: the client sees it as an ERROR. */
    private ByteBuf downgraded(Frame frame) {
        ErrorResponse error = ErrorResponse.decode(frame.body());
        if (!error.isFatal()) {
            return frame.content();
        }
        frame.release();
        Map<Character, String> fields = new LinkedHashMap<>(error.fields());
        fields.replace(ErrorField.SEVERITY, "ERROR");
        fields.replace(ErrorField.SEVERITY_NONLOCALIZED, "ERROR");
        return new ErrorResponse(fields).encode(session.alloc());
    }

    /** The first column of a DataRow body, or null. */
    private static String firstColumn(ByteBuf row) {
        int start = row.readerIndex();
        if (row.readableBytes() < 6 || row.getShort(start) < 1) {
            return null;
        }
        int length = row.getInt(start + 2);
        return length < 0 || length > row.readableBytes() - 6 ? null
                : row.toString(start + 6, length, StandardCharsets.UTF_8);
    }

    /** A DO block that raises {@code error} with its SQLSTATE, message and hint. */
    public static String raise(PgException error) {
        return "DO $pgstitch$BEGIN RAISE EXCEPTION USING ERRCODE = '" + error.sqlState() + "', MESSAGE = "
                + SetConfigQuery.literal(error.getMessage()) + ", HINT = " + SetConfigQuery.literal(error.hint())
                + "; END$pgstitch$";
    }
}
