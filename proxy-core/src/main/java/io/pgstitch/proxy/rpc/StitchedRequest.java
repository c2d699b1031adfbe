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
import io.pgstitch.protocol.frontend.Sync;
import io.netty.util.ReferenceCountUtil;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One client request that pgstitch splits. Its steps run strictly in order, each on the session backend or on
 * an RPC connection; every result reaches the client in statement order; the ReadyForQuery ending each step is
 * swallowed, and one ReadyForQuery carrying the session backend's transaction status ends the response. The
 * first error stops the request, as in PostgreSQL. Session loop only.
 *
 * <p>Before an RPC step, the session's transaction status decides, as PostgreSQL would: in an aborted block the
 * step goes to the session backend, which refuses it with 25P02; in a block in which nothing but its BEGIN has
 * run ({@link TransactionWatch}) a call runs on its RPC connection, the session's snapshot being taken only
 * by its next statement; in any other block {@code rpc.in_transaction} decides ({@code reject}: 25001, raised by
 * the session backend so that the block is aborted as by any error). An RPC call that fails while the session is
 * in a block aborts the session's block too (a swallowed error raised there), so that the client finds its
 * transaction as PostgreSQL would leave it. The session's {@code search_path} is read (from its ParameterStatus
 * when the server reports it, else with {@code SHOW}, which takes no snapshot) and set on the RPC connection
 * before the call, with every reported setting the session changed since its startup ({@code SET
 * application_name}, {@code TimeZone}, {@code DateStyle}...), so that the call runs, and its results are
 * formatted, as in the session.
 *
 * <p>Steps whose cursor or portal must outlive them run on the {@link KeptConnection}; after every session step
 * the request looks whether the session's block ended, and ends the kept connection's the same way before it
 * goes on; before it answers a Sync (or when a part run at a Flush failed) it sends the kept connection the Sync
 * it owes.
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
        /** An RPC call failed in a block: the session backend's block is aborted too; nothing of it is shown. */
        ABORTING,
        /** Reading the session's search_path on the session backend for the RPC call due next; nothing is shown. */
        SEARCH_PATH,
        /** Waiting for an RPC connection. */
        ACQUIRING,
        /** The RPC connection takes the session's settings (and BEGIN, PREPAREs); only an error is shown. */
        RPC_PREAMBLE,
        /** The RPC step runs: its frames go to the client; its ReadyForQuery, or its last answer, ends the step. */
        RPC,
        /** The kept connection ends its block or sends the Sync it owes; nothing of it is shown. */
        KEPT,
        /** Answered or abandoned: whatever still arrives is released. */
        DONE
    }

    private static final String READ_SEARCH_PATH = "SHOW search_path";
    private static final String IN_FAILED_SQL_TRANSACTION = "25P02";
    /** Settings a client may change with SET that PostgreSQL reports back (ParameterStatus), plus search_path. */
    private static final List<String> PROPAGATED = List.of("search_path", "application_name", "DateStyle",
            "IntervalStyle", "TimeZone", "client_encoding", "standard_conforming_strings");

    private final Session session;
    private final ArrayDeque<StitchStep> steps;
    private final RpcSettings settings;
    private final RpcMetrics metrics;
    private final TransactionWatch watch;
    private final KeptConnection kept;
    /** False for a plan run at a client's Flush: its Sync, and the ReadyForQuery, come later. */
    private final boolean answersSync;
    private Phase phase = Phase.WAITING;
    private boolean failed;
    /** The step under way failed; its error reached the client. */
    private boolean stepFailed;
    private StitchStep.OnSession sessionStep;
    /** The RPC step under way; its messages are still this request's until sent. */
    private StitchStep.OnRpc call;
    private boolean callSent;
    private long callStartedNanos;
    /** The session was in a transaction block when the call was due. */
    private boolean sessionInBlock;
    private String searchPath;
    private BackendLease rpcBackend;
    /** The call runs on the kept connection. */
    private boolean onKept;
    /** The call ends with a Flush, not a Sync: it is over when each of its messages is answered. */
    private boolean unsyncedCall;
    private int answersLeft;
    private int preambleLeft;
    private boolean preambleFailed;
    private int parsesToSwallow;
    private int clientClosesLeft;
    private int closesToSwallow;
    /** The client cancelled before the call reached an RPC connection: it must not start. */
    private boolean cancelled;

    public StitchedRequest(Session session, RpcRouter.Plan plan, boolean answersSync, RpcSettings settings,
                           RpcMetrics metrics) {
        this.session = session;
        this.answersSync = answersSync;
        this.steps = new ArrayDeque<>(plan.steps());
        this.watch = plan.watch();
        this.kept = plan.kept();
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
        } else if (step instanceof StitchStep.Refused refused) {
            refuse(refused);
        } else {
            runOnSession((StitchStep.OnSession) step);
        }
    }

    private void runOnSession(StitchStep.OnSession step) {
        phase = Phase.SESSION;
        sessionStep = step;
        stepFailed = false;
        send(session.sessionBackend(), step.messages(), this::sessionFrame);
        session.sessionBackend().whenAnswered(() -> {
            if (phase == Phase.SESSION) {
                sessionStepDone();
            }
        });
    }

    /** {@code messages} (an RPC step's, unterminated) for the session backend, which answers as PostgreSQL. */
    private void answerOnSession(List<ByteBuf> messages) {
        List<ByteBuf> synced = new ArrayList<>(messages);
        synced.add(Sync.INSTANCE.encode(session.alloc()));
        metrics.record(RpcMetrics.Outcome.REJECTED, Duration.ZERO);
        runOnSession(new StitchStep.OnSession(synced));
    }

    private void sessionStepDone() {
        Runnable succeeded = sessionStep.whenSucceeded();
        sessionStep = null;
        if (!stepFailed && succeeded != null) {
            succeeded.run();
        }
        if (kept.active() && kept.inBlock() && watch.blockEnds() != kept.blockMark()) {
            phase = Phase.KEPT; // the session's block ended: so does the kept connection's, the same way
            kept.end(watch.lastEndCommitted(), session.alloc(), this::keptDone);
        } else {
            next();
        }
    }

    private void keptDone() {
        if (phase == Phase.KEPT) {
            next();
        }
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
        if (phase != Phase.SESSION) {
            frame.release();
            return;
        }
        watch.observe(frame);
        if (frame.type() == ReadyForQuery.TYPE) {
            frame.release();
            return;
        }
        if (frame.type() == ErrorResponse.TYPE) {
            failed = true;
            stepFailed = true;
        }
        session.toClient(frame);
    }

    private void beginCall(StitchStep.OnRpc step) {
        TransactionStatus status = session.sessionBackend().status();
        StitchStep.Lifetime lifetime = step.lifetime();
        if (status == TransactionStatus.FAILED) { // PostgreSQL refuses every statement there: 25P02
            step.preamble().forEach(ReferenceCountUtil::safeRelease);
            answerOnSession(step.messages());
            return;
        }
        if (lifetime.continues() != null && kept.function(lifetime.continues()) == null) {
            // its cursor or portal is gone (its block ended): the session backend says so as PostgreSQL would
            step.preamble().forEach(ReferenceCountUtil::safeRelease);
            answerOnSession(step.messages());
            return;
        }
        call = step;
        callSent = false;
        stepFailed = false;
        callStartedNanos = System.nanoTime();
        sessionInBlock = status == TransactionStatus.IN_TRANSACTION;
        if (lifetime.continues() != null) {
            onKept = true;
            rpcBackend = kept.lease();
            startCall(false);
            return;
        }
        if (lifetime.executes() && sessionInBlock && !watch.fresh()
                && settings.inTransaction() == RpcInTransaction.REJECT) {
            reject();
            return;
        }
        onKept = lifetime.keeps(sessionInBlock);
        String reported = session.reportedParameter("search_path");
        if (reported != null) {
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
        if (type == 'D') {
            searchPath = firstColumn(frame.body());
        }
        frame.release(); // an error (none is expected) leaves the RPC connection's default search_path
        if (type == ReadyForQuery.TYPE) {
            acquire(searchPath);
        }
    }

    /** Refuses the RPC call of a session inside a transaction block in which other statements ran. */
    private void reject() {
        PgException error = PgException.error(SqlState.ACTIVE_SQL_TRANSACTION, "RPC function " + call.function()
                        + " cannot run inside a transaction block")
                .withHint("pgstitch runs it on a separate connection, which can neither see this transaction's"
                        + " uncommitted work nor wait for its locks. COMMIT or ROLLBACK first, or make the call the"
                        + " first statement of the block (or set rpc.in_transaction: isolate).");
        endCall(RpcMetrics.Outcome.REJECTED);
        fail(error);
    }

    /** A statement pgstitch refuses: PostgreSQL's 25P02 in an aborted block, else its own error. */
    private void refuse(StitchStep.Refused step) {
        if (session.sessionBackend().status() == TransactionStatus.FAILED) {
            answerOnSession(step.messages());
            return;
        }
        step.release();
        metrics.record(RpcMetrics.Outcome.REJECTED, Duration.ZERO);
        fail(step.error());
    }

    /**
     * Fails the request with {@code error} as PostgreSQL fails a statement. In an open block the session backend
     * raises it itself, so that the block is aborted as by any other error.
     */
    private void fail(PgException error) {
        if (session.sessionBackend().status() == TransactionStatus.IN_TRANSACTION) {
            runOnSession(new StitchStep.OnSession(List.of(new Query(raise(error)).encode(session.alloc()))));
        } else {
            session.toClient(error);
            failed = true;
            next();
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
            stepFailed = true;
            endCall(RpcMetrics.Outcome.ERROR);
            afterCall();
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
        String settingsQuery = newCall ? settingsOfTheSession(rpcBackend.parameters()) : null;
        if (settingsQuery != null) {
            preamble.add(new Query(settingsQuery).encode(session.alloc()));
        }
        if (newCall && onKept && sessionInBlock && !kept.inBlock()) {
            preamble.add(new Query("BEGIN").encode(session.alloc()));
            kept.begin(watch.blockEnds());
        }
        preamble.addAll(call.preamble());
        preambleLeft = preamble.size();
        preambleFailed = false;
        phase = preambleLeft > 0 ? Phase.RPC_PREAMBLE : Phase.RPC;
        for (ByteBuf query : preamble) {
            rpcBackend.send(query, this::preambleFrame);
        }
        parsesToSwallow = call.injectedParses();
        closesToSwallow = call.injectedCloses();
        clientClosesLeft = count(call.messages(), "C") - closesToSwallow;
        unsyncedCall = onKept && call.lifetime().flushed() && !kept.inBlock();
        answersLeft = count(call.messages(), "PBDEC");
        callSent = true;
        List<ByteBuf> messages = new ArrayList<>(call.messages());
        if (unsyncedCall) { // the kept connection's implicit transaction, and its portals, live until the Sync
            messages.add(KeptConnection.flush(session.alloc()));
            kept.sentUnsynced();
        } else {
            messages.add(Sync.INSTANCE.encode(session.alloc()));
        }
        send(rpcBackend, messages, this::rpcFrame);
    }

    /** How many of {@code messages} have one of {@code types}. */
    private static int count(List<ByteBuf> messages, String types) {
        int count = 0;
        for (ByteBuf message : messages) {
            if (types.indexOf(message.getByte(message.readerIndex())) >= 0) {
                count++;
            }
        }
        return count;
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

    /** The answer to what the RPC connection runs before the call: only an error reaches the client. */
    private void preambleFrame(Frame frame) {
        if (phase == Phase.RPC_PREAMBLE && frame.type() == ErrorResponse.TYPE && !preambleFailed) {
            failed = true;
            stepFailed = true;
            preambleFailed = true;
            session.toClient(downgraded(frame));
            return;
        }
        if (phase == Phase.RPC_PREAMBLE && frame.type() == ReadyForQuery.TYPE && --preambleLeft == 0) {
            phase = Phase.RPC;
        }
        frame.release();
    }

    /**
     * A frame of the RPC call: the client's, but its ReadyForQuery, the ParseComplete of a replayed Parse and the
     * CloseComplete of the proxy's own Close; after a failed preamble nothing (it would only repeat the failure).
     */
    private void rpcFrame(Frame frame) {
        byte type = frame.type();
        if (phase != Phase.RPC) {
            frame.release();
            return;
        }
        if (type == ReadyForQuery.TYPE) {
            frame.release();
            callAnswered();
            return;
        }
        boolean last = unsyncedCall && isAnswer(type) && --answersLeft == 0;
        if (preambleFailed) {
            frame.release();
        } else if (type == '1' && parsesToSwallow > 0) {
            parsesToSwallow--; // the ParseComplete of a Parse the proxy replayed
            frame.release();
        } else if (type == '3' && clientClosesLeft > 0) {
            clientClosesLeft--;
            session.toClient(frame);
        } else if (type == '3' && closesToSwallow > 0) {
            closesToSwallow--; // the CloseComplete of the proxy's own Close, last before the Sync
            frame.release();
        } else if (type == ErrorResponse.TYPE) {
            failed = true;
            stepFailed = true;
            session.toClient(downgraded(frame));
            last = unsyncedCall; // nothing more comes until a Sync
        } else {
            session.toClient(frame);
        }
        if (last) {
            callAnswered();
        }
    }

    /** The last answer to an extended-protocol message (a Describe's ParameterDescription is not). */
    private static boolean isAnswer(byte type) {
        return "123TnCsI".indexOf(type) >= 0;
    }

    /** The call is answered: its connection goes back, or the kept connection takes note of what lives on. */
    private void callAnswered() {
        BackendLease used = rpcBackend;
        rpcBackend = null;
        StitchStep.Lifetime lifetime = call.lifetime();
        String function = call.function();
        endCall(stepFailed ? RpcMetrics.Outcome.ERROR : RpcMetrics.Outcome.OK);
        if (!onKept) {
            used.giveBack(false);
            afterCall();
            return;
        }
        kept.unuse();
        if (!stepFailed) {
            if (lifetime.declares() != null) {
                kept.add(lifetime.declares(), function);
            }
            if (kept.inBlock() || unsyncedCall) {
                lifetime.portals().forEach(portal -> kept.add(portal, function));
            }
            if (lifetime.closes() != null) {
                kept.remove(lifetime.closes());
            }
        }
        if (unsyncedCall && stepFailed) { // it skips until a Sync: the client's batch is over for it
            phase = Phase.KEPT;
            kept.sync(session.alloc(), () -> {
                if (phase == Phase.KEPT) {
                    afterCall();
                }
            });
            return;
        }
        if (!unsyncedCall) {
            kept.synced();
        }
        kept.giveBackIfIdle();
        afterCall();
    }

    /** After an RPC step: a failure inside a block aborts the session's block too, as PostgreSQL's would be. */
    private void afterCall() {
        if (stepFailed && session.sessionBackend().status() == TransactionStatus.IN_TRANSACTION) {
            phase = Phase.ABORTING;
            PgException why = PgException.error(IN_FAILED_SQL_TRANSACTION, "pgstitch: an RPC call of this"
                    + " transaction block failed").withHint("The block is aborted as PostgreSQL aborts it.");
            send(session.sessionBackend(), List.of(new Query(raise(why)).encode(session.alloc())),
                    ReferenceCountUtil::release);
            session.sessionBackend().whenAnswered(() -> {
                if (phase == Phase.ABORTING) {
                    next();
                }
            });
            return;
        }
        next();
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
        stepFailed = true;
        BackendLease lost = rpcBackend;
        rpcBackend = null;
        if (!onKept) { // the kept connection gives itself back
            lost.giveBack(true);
        }
        endCall(RpcMetrics.Outcome.ERROR);
        afterCall();
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

    /**
     * The client left: releases what was not sent; an RPC call under way is cancelled by its pool release (the
     * kept connection is the router's to release).
     */
    public void abandon() {
        if (phase == Phase.DONE) {
            return;
        }
        phase = Phase.DONE;
        steps.forEach(StitchStep::release);
        steps.clear();
        if (rpcBackend != null) {
            if (!onKept) {
                rpcBackend.giveBack(false);
            }
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
        if (kept.active() && kept.unsynced() && (answersSync || failed)) {
            phase = Phase.KEPT; // the Sync the kept connection owes comes before the client's answer
            kept.sync(session.alloc(), () -> {
                if (phase == Phase.KEPT) {
                    finish();
                }
            });
            return;
        }
        if (answersSync) {
            kept.giveBackIfIdle();
        }
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
    static String raise(PgException error) {
        return "DO $pgstitch$BEGIN RAISE EXCEPTION USING ERRCODE = '" + error.sqlState() + "', MESSAGE = "
                + SetConfigQuery.literal(error.getMessage()) + ", HINT = " + SetConfigQuery.literal(error.hint())
                + "; END$pgstitch$";
    }
}
