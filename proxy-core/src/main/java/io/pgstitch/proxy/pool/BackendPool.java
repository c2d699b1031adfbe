package io.pgstitch.proxy.pool;

import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgstitch.conf.PoolConfig;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.proxy.backend.BackendConnection;
import io.pgstitch.proxy.backend.BackendConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The backend connections of one {@link PoolKey}: at most {@code pool.size} open (idle, in use, connecting or
 * being reset), a FIFO of waiting clients that fails with 53300 after {@code pool.wait_timeout}.
 *
 * <p>Threads: a new backend is opened on the event loop of the client that needs it. An idle backend on the
 * client's own loop is preferred; otherwise any idle one serves, and its events reach the session as tasks on
 * the session's loop (see the session's BackendRelay). Counters and queues are guarded by this object's lock;
 * no I/O happens under it.
 */
public final class BackendPool {

    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);
    private static final long CLEANUP_TIMEOUT_MILLIS = 10_000;

    /** How a client left its backend, which decides whether it can be reused. */
    public enum Release {
        /** Idle, no request outstanding: reset and reuse. */
        CLEAN,
        /** Requests still running (a cancel was sent): wait for them, then reset and reuse if idle. */
        BUSY,
        /** In a transaction, mid-COPY, unsynced extended protocol, after a protocol error: close. */
        DIRTY
    }

    private record Waiter(EventLoop loop, Promise<PooledBackend> promise, ScheduledFuture<?> timeout) {
    }

    private final PoolKey key;
    private final PoolConfig config;
    private final BackendConnector connector;
    /** Most recently released last. */
    private final ArrayDeque<PooledBackend> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private int open;
    private int inUse;
    private boolean closed;

    BackendPool(PoolKey key, BackendConnector connector) {
        this.key = key;
        this.config = key.config();
        this.connector = connector;
    }

    public PoolKey key() {
        return key;
    }

    /** A ready backend on {@code loop}: an idle one, a new one, or the next one released when the pool is full. */
    public Future<PooledBackend> acquire(EventLoop loop) {
        Promise<PooledBackend> promise = loop.newPromise();
        List<PooledBackend> discarded = new ArrayList<>();
        PooledBackend reused;
        boolean connect = false;
        synchronized (this) {
            reused = takeIdle(loop, discarded);
            if (reused != null) {
                inUse++;
            } else if (open - discarded.size() < config.size()) {
                open++;
                connect = true;
            } else {
                ScheduledFuture<?> timeout = loop.schedule(() -> waitTimedOut(promise),
                        config.waitTimeout().toMillis(), TimeUnit.MILLISECONDS);
                waiters.add(new Waiter(loop, promise, timeout));
            }
        }
        discarded.forEach(this::closeCounted);
        if (reused != null) {
            promise.setSuccess(reused);
        } else if (connect) {
            openFor(loop, promise);
        }
        return promise;
    }

    private void openFor(EventLoop loop, Promise<PooledBackend> promise) {
        connector.connect(loop, key.shard(), key.database(), key.parameters())
                .addListener((Future<BackendConnection> connected) -> {
                    if (!connected.isSuccess()) {
                        synchronized (this) {
                            open--;
                        }
                        promise.tryFailure(connected.cause());
                        serveWaiters();
                        return;
                    }
                    PooledBackend backend = new PooledBackend(this, connected.getNow(), System.nanoTime());
                    synchronized (this) {
                        inUse++;
                    }
                    if (!promise.trySuccess(backend)) { // the waiter gave up meanwhile
                        release(backend, Release.CLEAN, 0, null);
                    }
                });
    }

    /**
     * Takes a backend back from a client. The session's handler ({@link PooledBackend#SESSION_HANDLER}) is
     * replaced by the cleanup on the backend's event loop.
     *
     * @param pendingReadyForQuery for {@link Release#BUSY}: how many ReadyForQuery are still owed
     * @param cancelInFlight       a cancel forwarded for the previous client; the backend is reset only after
     *                             the server has taken it, so that it can never hit the next client's query
     */
    public void release(PooledBackend backend, Release release, int pendingReadyForQuery, Future<?> cancelInFlight) {
        synchronized (this) {
            inUse--;
        }
        long age = System.nanoTime() - backend.createdNanos();
        if (release == Release.DIRTY || !backend.isActive() || closed || age > config.maxLifetime().toNanos()) {
            closeCounted(backend);
            return;
        }
        Future<?> cancel = cancelInFlight == null ? backend.loop().newSucceededFuture(null) : cancelInFlight;
        if (backend.loop().inEventLoop()) {
            cleanup(backend, pendingReadyForQuery, cancel);
        } else {
            backend.loop().execute(() -> cleanup(backend, pendingReadyForQuery, cancel));
        }
    }

    private void cleanup(PooledBackend backend, int pendingReadyForQuery, Future<?> cancel) {
        Promise<Void> done = backend.loop().newPromise();
        BackendCleanup cleanup = new BackendCleanup(pendingReadyForQuery, cancel, config.resetQuery(),
                CLEANUP_TIMEOUT_MILLIS, done);
        ChannelPipeline pipeline = backend.connection().channel().pipeline();
        if (pipeline.get(PooledBackend.SESSION_HANDLER) != null) {
            pipeline.replace(PooledBackend.SESSION_HANDLER, "cleanup", cleanup);
        } else {
            pipeline.addLast("cleanup", cleanup);
        }
        done.addListener(cleaned -> {
            if (cleaned.isSuccess()) {
                returnToPool(backend);
            } else {
                log.debug("{}: closing a backend that could not be reset", key.describe());
                closeCounted(backend);
            }
        });
    }

    private void returnToPool(PooledBackend backend) {
        Waiter waiter;
        synchronized (this) {
            waiter = waiters.poll();
            if (waiter == null) {
                backend.releasedAt(System.nanoTime());
                idle.addLast(backend);
                return;
            }
            waiter.timeout().cancel(false);
            inUse++;
        }
        if (!waiter.promise().trySuccess(backend)) {
            release(backend, Release.CLEAN, 0, null);
        }
    }

    /** Closes a backend and gives its slot to the next waiter, if any. */
    private void closeCounted(PooledBackend backend) {
        backend.close();
        synchronized (this) {
            open--;
        }
        serveWaiters();
    }

    private void serveWaiters() {
        Waiter waiter;
        synchronized (this) {
            if (waiters.isEmpty() || open >= config.size() || closed) {
                return;
            }
            waiter = waiters.poll();
            waiter.timeout().cancel(false);
            open++;
        }
        openFor(waiter.loop(), waiter.promise());
    }

    private void waitTimedOut(Promise<PooledBackend> promise) {
        synchronized (this) {
            waiters.removeIf(waiter -> waiter.promise() == promise);
        }
        promise.tryFailure(PgException.fatal(SqlState.TOO_MANY_CONNECTIONS, String.format(
                "%s is exhausted: all %d connections are in use and none was released within %d ms",
                key.describe(), config.size(), config.waitTimeout().toMillis()))
                .withHint("Raise " + key.sizeSettings() + "."));
    }

    /**
     * Caller holds the lock. The most recently used idle backend on {@code loop}, else the most recently used
     * one anywhere; expired or broken ones found on the way are moved to {@code discarded}.
     */
    private PooledBackend takeIdle(EventLoop loop, List<PooledBackend> discarded) {
        idle.removeIf(backend -> !isUsable(backend) && discarded.add(backend));
        for (Iterator<PooledBackend> it = idle.descendingIterator(); it.hasNext(); ) {
            PooledBackend backend = it.next();
            if (backend.loop() == loop) {
                it.remove();
                return backend;
            }
        }
        return idle.pollLast();
    }

    private boolean isUsable(PooledBackend backend) {
        long now = System.nanoTime();
        return backend.isActive() && now - backend.releasedNanos() < config.idleTimeout().toNanos()
                && now - backend.createdNanos() < config.maxLifetime().toNanos();
    }

    /** Closes idle backends past idle_timeout or max_lifetime. Called periodically. */
    void evictExpired() {
        List<PooledBackend> expired = new ArrayList<>();
        synchronized (this) {
            idle.removeIf(backend -> !isUsable(backend) && expired.add(backend));
        }
        expired.forEach(this::closeCounted);
    }

    /** Opens connections on {@code loop} until min_idle are idle. Called periodically. */
    void fillMinIdle(EventLoop loop) {
        synchronized (this) {
            if (closed || idle.size() >= config.minIdle() || open >= config.size() || !waiters.isEmpty()) {
                return;
            }
            open++;
        }
        Promise<PooledBackend> opened = loop.newPromise();
        opened.addListener((Future<PooledBackend> result) -> {
            if (result.isSuccess()) {
                release(result.getNow(), Release.CLEAN, 0, null);
            }
        });
        openFor(loop, opened);
    }

    public synchronized int openConnections() {
        return open;
    }

    public synchronized int idleConnections() {
        return idle.size();
    }

    public synchronized int inUse() {
        return inUse;
    }

    /** Acquisitions queued for a connection of this full pool. */
    public synchronized int waiting() {
        return waiters.size();
    }

    /** Closes idle connections and refuses to keep released ones; waiters fail. */
    void close() {
        List<PooledBackend> all = new ArrayList<>();
        List<Waiter> waiting;
        synchronized (this) {
            closed = true;
            all.addAll(idle);
            idle.clear();
            waiting = new ArrayList<>(waiters);
            waiters.clear();
        }
        all.forEach(this::closeCounted);
        waiting.forEach(waiter -> waiter.promise().tryFailure(PgException.fatal(SqlState.ADMIN_SHUTDOWN,
                "pgstitch is shutting down")));
    }
}
