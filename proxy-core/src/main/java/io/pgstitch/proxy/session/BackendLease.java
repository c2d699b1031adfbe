package io.pgstitch.proxy.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.FutureListener;
import io.netty.util.concurrent.Promise;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;
import io.pgstitch.proxy.backend.BackendConnection;
import io.pgstitch.proxy.backend.BackendConnector;
import io.pgstitch.proxy.pool.BackendPool;
import io.pgstitch.proxy.pool.PooledBackend;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pooled backend while one session uses it, as its own backend or for one RPC call: its events go to a
 * listener on the session's loop, every message sent to it is counted, and giving it back decides, on the
 * backend's own loop, whether the pool may reuse it.
 */
final class BackendLease {

    private final PooledBackend pooled;
    private final RequestTracker requests;
    private final BackendConnector connector;
    /** Written on the session's loop, read on the backend's when the backend is given back. */
    private volatile Future<Void> cancelInFlight;

    private BackendLease(PooledBackend pooled, BackendConnector connector) {
        this.pooled = pooled;
        this.connector = connector;
        this.requests = new RequestTracker(pooled.connection().status());
    }

    /** Starts relaying {@code pooled}'s events to {@code listener} on {@code sessionLoop}. */
    static BackendLease attach(PooledBackend pooled, BackendListener listener, EventLoop sessionLoop,
                               BackendConnector connector) {
        BackendLease lease = new BackendLease(pooled, connector);
        pooled.connection().channel().pipeline().addLast(PooledBackend.SESSION_HANDLER,
                new BackendRelay(listener, sessionLoop, lease.requests));
        return lease;
    }

    BackendConnection connection() {
        return pooled.connection();
    }

    Channel channel() {
        return pooled.connection().channel();
    }

    /** The transaction status of the last ReadyForQuery read. */
    TransactionStatus status() {
        return requests.status();
    }

    /** Forwards a client's frame; the lease takes over its reference. */
    void write(Frame frame) {
        requests.sent(frame.type());
        channel().write(frame.content(), channel().voidPromise());
    }

    /** Sends one message the proxy made (or a retained client message); takes over {@code message}. */
    void write(ByteBuf message) {
        requests.sent(message.getByte(message.readerIndex()));
        channel().write(message, channel().voidPromise());
    }

    void flush() {
        channel().flush();
    }

    /** Forwards a cancel for whatever the backend runs now; {@code loop} is the session's. */
    void cancel(EventLoop loop) {
        BackendConnection connection = connection();
        cancelInFlight = alsoAwaiting(loop, cancelInFlight,
                connector.cancel(loop, connection.shard(), connection.keyData()));
    }

    /**
     * Done when both cancels are: each travels on a connection of its own, so a later one may be taken by the
     * server first, and the backend must not be reset (or serve another client) while either can still land.
     */
    private static Future<Void> alsoAwaiting(EventLoop loop, Future<Void> earlier, Future<Void> later) {
        if (earlier == null || earlier.isDone()) {
            return later;
        }
        Promise<Void> both = loop.newPromise();
        AtomicInteger left = new AtomicInteger(2);
        FutureListener<Void> done = cancel -> {
            if (left.decrementAndGet() == 0) {
                both.trySuccess(null);
            }
        };
        earlier.addListener(done);
        later.addListener(done);
        return both;
    }

    /**
     * Returns the backend to its pool, or has it closed when its state is unknown. A request still running is
     * cancelled first; the pool reuses the backend only after that request's ReadyForQuery says idle.
     *
     * @param broken the protocol state is unknown (a FATAL error, a client that broke the protocol): close it
     */
    void giveBack(boolean broken) {
        EventLoop backendLoop = channel().eventLoop();
        // Decided on the backend's loop, where frames are read: nothing can be in flight between the two owners.
        Runnable handBack = () -> {
            BackendPool.Release release = broken || !channel().isActive()
                    ? BackendPool.Release.DIRTY : requests.release();
            Future<Void> cancel = cancelInFlight;
            if (release == BackendPool.Release.BUSY) {
                BackendConnection connection = connection();
                cancel = alsoAwaiting(backendLoop, cancel,
                        connector.cancel(backendLoop, connection.shard(), connection.keyData()));
            }
            pooled.pool().release(pooled, release, requests.pendingReadyForQuery(), cancel);
        };
        if (backendLoop.inEventLoop()) {
            handBack.run();
        } else {
            backendLoop.execute(handBack);
        }
    }
}
