package io.pgstitch.proxy.pool;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;
import io.pgstitch.protocol.frontend.Query;

import java.util.concurrent.TimeUnit;

/**
 * Makes a released backend fit for another client: first waits for the ReadyForQuery of every request its
 * previous client left running (after a cancel, they end quickly) and for any cancel forwarded for that
 * client to have been taken by the server, then runs the reset query and waits for ReadyForQuery idle. Succeeds only when every step ends idle and error-free; otherwise the backend is not
 * reused. Whatever the backend sends meanwhile is discarded.
 */
final class BackendCleanup extends ChannelInboundHandlerAdapter {

    private static final long TIMEOUT_MILLIS = 10_000;

    private final PooledBackend backend;
    private final String resetQuery;
    private final Future<?> cancelInFlight;
    private final long timeoutMillis;
    private final Promise<Void> done;
    private int pendingReadyForQuery;
    private boolean resetSent;
    /** The previous client left inside a transaction block: ROLLBACK comes before the reset. */
    private boolean inTransaction;
    private boolean rollbackSent;
    private boolean failed;
    private ScheduledFuture<?> timeout;

    /**
     * Puts a cleanup of {@code backend} in place of its handler; the future tells whether the backend is fit for
     * another client.
     *
     * @param pendingReadyForQuery ReadyForQuery messages still owed for the previous client's requests
     */
    static Future<Void> start(PooledBackend backend, int pendingReadyForQuery, boolean inTransaction,
                              Future<?> cancelInFlight, String resetQuery) {
        Promise<Void> done = backend.loop().newPromise();
        backend.attachCleanup(new BackendCleanup(backend, pendingReadyForQuery, inTransaction, cancelInFlight,
                resetQuery, TIMEOUT_MILLIS, done));
        return done;
    }

    private BackendCleanup(PooledBackend backend, int pendingReadyForQuery, boolean inTransaction, Future<?> cancelInFlight,
                   String resetQuery, long timeoutMillis, Promise<Void> done) {
        this.backend = backend;
        this.inTransaction = inTransaction;
        this.pendingReadyForQuery = pendingReadyForQuery;
        this.cancelInFlight = cancelInFlight;
        this.resetQuery = resetQuery;
        this.timeoutMillis = timeoutMillis;
        this.done = done;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.channel().config().setAutoRead(true); // its last client may have paused it (backpressure)
        timeout = ctx.executor().schedule(() -> finish(ctx, false), timeoutMillis, TimeUnit.MILLISECONDS);
        cancelInFlight.addListener(cancelled -> ctx.executor().execute(() -> maybeReset(ctx)));
    }

    /** The reset runs only once nothing is owed and no cancel can still arrive: it would cancel the reset. */
    private void maybeReset(ChannelHandlerContext ctx) {
        if (resetSent || done.isDone() || pendingReadyForQuery > 0 || !cancelInFlight.isDone()) {
            return;
        }
        if (inTransaction) { // DISCARD ALL cannot run inside a transaction block: end it first
            inTransaction = false;
            rollbackSent = true;
            ctx.writeAndFlush(new Query("ROLLBACK").encode(ctx.alloc()), ctx.voidPromise());
            return;
        }
        resetSent = true;
        ctx.writeAndFlush(new Query(resetQuery).encode(ctx.alloc()), ctx.voidPromise());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame frame = (Frame) msg;
        try {
            if (frame.type() == 'S') {
                backend.reported(frame.body()); // the reset's RESET ALL reports the defaults back
            } else if (frame.type() == 'E') {
                failed = true; // e.g. the reset was cancelled by a late cancel: do not trust this backend
            } else if (frame.type() == 'Z') {
                TransactionStatus status = ReadyForQuery.decode(frame.body()).status();
                if (resetSent) {
                    finish(ctx, !failed && status == TransactionStatus.IDLE);
                } else if (rollbackSent) {
                    rollbackSent = false;
                    if (failed || status != TransactionStatus.IDLE) {
                        finish(ctx, false);
                    } else {
                        maybeReset(ctx);
                    }
                } else if (--pendingReadyForQuery == 0) {
                    if (status != TransactionStatus.IDLE) {
                        inTransaction = true; // the cancelled request left a transaction block open
                        failed = false;
                        maybeReset(ctx);
                    } else {
                        failed = false; // the cancelled query's own error is expected
                        maybeReset(ctx);
                    }
                }
            }
        } finally {
            frame.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        finish(ctx, false);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        finish(ctx, false);
    }

    private void finish(ChannelHandlerContext ctx, boolean clean) {
        if (done.isDone()) {
            return;
        }
        timeout.cancel(false);
        if (clean) {
            backend.wasReset();
            ctx.pipeline().replace(this, IdleBackend.NAME, IdleBackend.INSTANCE);
            done.trySuccess(null);
        } else {
            done.tryFailure(new IllegalStateException("backend could not be reset"));
        }
    }
}
