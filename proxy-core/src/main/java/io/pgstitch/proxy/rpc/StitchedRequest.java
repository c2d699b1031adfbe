package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
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
import io.pgstitch.proxy.backend.SetConfigQuery;
import io.pgstitch.proxy.pool.PooledBackend;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One client request that pgstitch splits. Its steps run strictly in order, each on the session backend or on
 * an RPC connection; every result reaches the client in statement order; the ReadyForQuery ending each step is
 * swallowed, and one ReadyForQuery carrying the session backend's transaction status ends the response. The
 * first error stops the request, as in PostgreSQL. Session loop only.
 *
 * <p>Before an RPC step, the session's transaction status decides whether it runs, as PostgreSQL would
 * ({@link RpcBlockRules}). An RPC call that fails while the session is in a block aborts the session's block too
 * (a swallowed error raised there), so that the client finds its transaction as PostgreSQL would leave it. The
 * call itself is an {@link RpcCall}.
 *
 * <p>Steps whose cursor or portal must outlive them run on the {@link KeptConnection}; after every session step
 * the request looks whether the session's block ended, and ends the kept connection's the same way before it
 * goes on; before it answers a Sync (or when a part run at a Flush failed) it sends the kept connection the Sync
 * it owes.
 */
public final class StitchedRequest {

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
        /**
         * An RPC call failed in a block: the session backend's block is aborted too (or, after a COMMIT that failed
         * on the kept connection, rolled back); nothing of it is shown.
         */
        ABORTING,
        /** An RPC step runs ({@link RpcCall}). */
        RPC,
        /** The kept connection follows or ends the session's block, or sends the Sync it owes; only errors show. */
        KEPT,
        /** Answered or abandoned: whatever still arrives is released. */
        DONE
    }

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
    /** Where the text of the steps now running starts in the client's Query, in characters (StitchStep.At). */
    private int positionOffset;
    private StitchStep.OnSession sessionStep;
    private RpcCall call;

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
        } else if (step instanceof StitchStep.OnKept follow) {
            follow(follow);
        } else if (step instanceof StitchStep.At at) {
            positionOffset = at.characters();
            next();
        } else {
            runOnSession((StitchStep.OnSession) step);
        }
    }

    private void runOnSession(StitchStep.OnSession step) {
        phase = Phase.SESSION;
        sessionStep = step;
        stepFailed = false;
        session.sessionBackend().sendAll(step.messages(), this::sessionFrame);
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

    /**
     * The kept connection follows the session's block; an error there is the client's and fails the request. A
     * COMMIT that fails there rolls the session's block back, as PostgreSQL's failed COMMIT does; in an aborted
     * block the session's COMMIT rolls back, and so does the kept connection.
     */
    private void follow(StitchStep.OnKept step) {
        String query = kept.follow(step);
        if (query == null) {
            next();
            return;
        }
        boolean commit = step.follows() == StitchStep.OnKept.Follows.COMMIT;
        if (commit && session.sessionBackend().status() == TransactionStatus.FAILED) {
            query = "ROLLBACK";
        }
        phase = Phase.KEPT;
        kept.run(query, session.alloc(), error -> {
            failed = true; // (a step runs only while nothing failed)
            session.toClient(RelayedErrors.rewritten(error, true, 0, session.alloc()));
        }, () -> {
            if (phase != Phase.KEPT) {
                return;
            }
            if (commit && failed && session.sessionBackend().status() != TransactionStatus.IDLE) {
                rollBackSession(new Query("ROLLBACK").encode(session.alloc()));
            } else {
                next();
            }
        });
    }

    /** A frame of the session backend answering a step of this request: the client's, but its ReadyForQuery. */
    private void sessionFrame(Frame frame) {
        if (phase != Phase.SESSION) {
            frame.release();
            return;
        }
        if (!(sessionStep != null && sessionStep.transactionControl()
                && (frame.type() == '1' || frame.type() == '2'))) {
            watch.observe(frame); // (ParseComplete, BindComplete: a SAVEPOINT's leave a block fresh)
        }
        if (frame.type() == ReadyForQuery.TYPE) {
            frame.release();
            return;
        }
        if (frame.type() == ErrorResponse.TYPE) {
            failed = true;
            stepFailed = true;
            if (positionOffset > 0 && frame.isComplete()) {
                session.toClient(RelayedErrors.rewritten(frame.content(), false, positionOffset, session.alloc()));
                return;
            }
        }
        session.toClient(frame);
    }

    private void beginCall(StitchStep.OnRpc step) {
        TransactionStatus status = session.sessionBackend().status();
        RpcBlockRules.Verdict verdict = RpcBlockRules.verdict(step, status, kept, watch, settings.inTransaction());
        if (verdict == RpcBlockRules.Verdict.ON_SESSION) {
            step.preamble().forEach(ReferenceCountUtil::safeRelease);
            answerOnSession(step.messages());
            return;
        }
        if (verdict == RpcBlockRules.Verdict.REJECTED) {
            step.release();
            metrics.record(RpcMetrics.Outcome.REJECTED, Duration.ZERO);
            fail(RpcBlockRules.rejection(step.function()));
            return;
        }
        StitchStep.Lifetime lifetime = step.lifetime();
        boolean inBlock = status == TransactionStatus.IN_TRANSACTION;
        phase = Phase.RPC;
        stepFailed = false;
        boolean onKept = lifetime.continues() != null || lifetime.keeps(inBlock);
        call = new RpcCall(session, step, kept, watch, metrics, onKept, inBlock, positionOffset, this::callDone);
        if (lifetime.continues() != null) {
            call.resume();
        } else {
            call.start();
        }
    }

    private void callDone(boolean callFailed) {
        call = null;
        stepFailed = callFailed;
        failed |= callFailed;
        if (phase == Phase.RPC) {
            afterCall();
        }
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

    /** After an RPC step: a failure inside a block aborts the session's block too, as PostgreSQL's would be. */
    private void afterCall() {
        if (stepFailed && session.sessionBackend().status() == TransactionStatus.IN_TRANSACTION) {
            rollBackSession(new Query(raise(RpcBlockRules.blockAborted())).encode(session.alloc()));
            return;
        }
        next();
    }

    /** Sends the session backend {@code query}, which aborts or ends its block; nothing of it is shown. */
    private void rollBackSession(ByteBuf query) {
        phase = Phase.ABORTING;
        session.sessionBackend().sendAll(List.of(query), ReferenceCountUtil::release);
        session.sessionBackend().whenAnswered(() -> {
            if (phase == Phase.ABORTING) {
                next();
            }
        });
    }

    /** Forwards the client's cancel to the RPC call under way, or stops one still waiting for its connection. */
    public void cancel() {
        if (call != null) {
            call.cancel();
        }
    }

    public void clientWritabilityChanged(boolean writable) {
        if (call != null) {
            call.clientWritabilityChanged(writable);
        }
    }

    /** The client left: releases what was not sent; an RPC call under way is abandoned. */
    public void abandon() {
        if (phase == Phase.DONE) {
            return;
        }
        phase = Phase.DONE;
        steps.forEach(StitchStep::release);
        steps.clear();
        if (call != null) {
            call.abandon();
            call = null;
        }
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

    /** A DO block that raises {@code error} with its SQLSTATE, message and hint. */
    public static String raise(PgException error) {
        return "DO $pgstitch$BEGIN RAISE EXCEPTION USING ERRCODE = '" + error.sqlState() + "', MESSAGE = "
                + SetConfigQuery.literal(error.getMessage()) + ", HINT = " + SetConfigQuery.literal(error.hint())
                + "; END$pgstitch$";
    }
}
