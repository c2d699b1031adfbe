package io.pgstitch.proxy.pool;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.pgstitch.conf.PoolConfig;
import io.pgstitch.proxy.backend.BackendConnection;
import io.pgstitch.proxy.backend.BackendConnector;
import io.pgstitch.proxy.backend.ShardLogin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The backend connections of one {@link PoolKey}: at most {@code pool.size} open (idle, in use, connecting or
 * being reset), and within the shard's total ({@link ShardSlots}); a FIFO of waiting clients that fails with
 * 53300 after {@code pool.wait_timeout}. A new connection logs in with the credentials of the client that needs
 * it (they are all the key's user).
 *
 * <p>Threads: a new backend is opened on the event loop of the client that needs it. An idle backend on the
 * client's own loop is preferred; then, while the pool and the shard have room, a new one is opened on that loop
 * rather than taking an idle one from another loop (whose every event would cost the session a task hop);
 * only a full pool serves from another loop. Counters and queues are guarded by this object's lock; no I/O,
 * and no other pool's lock, is taken under it.
 */
public final class BackendPool {

    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);

    /** How a client left its backend, which decides whether it can be reused. */
    public enum Release {
        /** Idle, no request outstanding: reset and reuse. */
        CLEAN,
        /**
         * Transaction and statement modes: a transaction is over and nothing is owed; reused as it is (its next
         * client gives it its own settings), once a cancel sent for the last client has landed.
         */
        TRANSACTION_END,
        /** Idle inside a transaction block its client left open: rolled back, then reset and reused. */
        IN_TRANSACTION,
        /** Requests still running (a cancel was sent): wait for them, then reset and reuse if idle. */
        BUSY,
        /** In a transaction, mid-COPY, unsynced extended protocol, after a protocol error: close. */
        DIRTY
    }

    private final PoolKey key;
    private final PoolConfig config;
    private final BackendConnector connector;
    private final ShardSlots slots;
    private final PoolMeters meters;
    private final IdleBackends idle;
    private final Waiters waiters = new Waiters();
    private int open;
    private int inUse;
    private boolean closed;
    /** The last login seen, for connections opened with no client waiting (min_idle). */
    private ShardLogin lastLogin;
    private long emptySinceNanos = System.nanoTime();
    /** RECONNECT: backends opened before this are closed when released instead of reused (at first: none). */
    private long reconnectBeforeNanos = System.nanoTime();

    BackendPool(PoolKey key, BackendConnector connector, ShardSlots slots, PoolMeters meters) {
        this.key = key;
        this.config = key.config();
        this.connector = connector;
        this.slots = slots;
        this.meters = meters;
        this.idle = new IdleBackends(config);
    }

    public PoolKey key() {
        return key;
    }

    /**
     * A ready backend for {@code login} (whose user is the key's) on {@code loop}: an idle one on that loop, a new
     * one, an idle one from another loop, or the next one released when the pool or the shard is full.
     *
     * @return null when this pool was retired meanwhile (empty and evicted): ask {@link BackendPools} again
     */
    Future<PooledBackend> acquire(EventLoop loop, ShardLogin login) {
        Promise<PooledBackend> promise = loop.newPromise();
        List<PooledBackend> discarded = new ArrayList<>();
        PooledBackend reused;
        boolean reserved = false; // a place in the pool, taken before asking the shard for a slot
        synchronized (this) {
            if (closed) {
                return null;
            }
            lastLogin = login;
            reused = idle.take(loop, discarded, false);
            if (reused != null) {
                inUse++;
            } else if (open - discarded.size() < config.size()) {
                open++;
                reserved = true;
            }
        }
        discarded.forEach(this::closeCounted);
        discarded.clear();
        if (reused != null) {
            meters.served(PoolMeters.Served.SAME_LOOP);
            return promise.setSuccess(reused);
        }
        if (reserved) {
            if (slots.tryTake(this)) {
                meters.served(PoolMeters.Served.NEW);
                openFor(loop, login, promise);
                return promise;
            }
            synchronized (this) {
                open--; // the shard is full: wait like any client of a full pool
            }
        }
        synchronized (this) {
            reused = idle.take(loop, discarded, true);
            if (reused != null) {
                inUse++;
            } else {
                waiters.add(loop, login, promise, config.waitTimeout(), () -> waitTimedOut(promise));
            }
        }
        discarded.forEach(this::closeCounted);
        if (reused != null) {
            meters.served(reused.loop() == loop ? PoolMeters.Served.SAME_LOOP : PoolMeters.Served.OTHER_LOOP);
            promise.setSuccess(reused);
        }
        return promise;
    }

    private void openFor(EventLoop loop, ShardLogin login, Promise<PooledBackend> promise) {
        String shard = key.shard().name();
        connector.connect(loop, key.shard(), key.database(), login,
                        slots.serverLimitUnknown() ? allowed -> slots.serverAllows(shard, allowed) : null)
                .addListener((Future<BackendConnection> connected) -> {
                    meters.connected(key.shard().name(), connected.isSuccess() ? null : connected.cause());
                    if (!connected.isSuccess()) {
                        synchronized (this) {
                            open--;
                        }
                        slots.giveBack();
                        promise.tryFailure(connected.cause());
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
        if (release == Release.DIRTY || !backend.isActive() || closed || age > config.maxLifetime().toNanos()
                || backend.createdNanos() - reconnectBeforeNanos() < 0) {
            closeCounted(backend);
            return;
        }
        Future<?> cancel = cancelInFlight == null ? backend.loop().newSucceededFuture(null) : cancelInFlight;
        if (release == Release.TRANSACTION_END) {
            cancel.addListener(landed -> backend.loop().execute(() -> idleAgain(backend)));
            return;
        }
        boolean rollback = release == Release.IN_TRANSACTION;
        if (backend.loop().inEventLoop()) {
            cleanup(backend, pendingReadyForQuery, rollback, cancel);
        } else {
            backend.loop().execute(() -> cleanup(backend, pendingReadyForQuery, rollback, cancel));
        }
    }

    private void cleanup(PooledBackend backend, int pendingReadyForQuery, boolean rollback, Future<?> cancel) {
        BackendCleanup.start(backend, pendingReadyForQuery, rollback, cancel, config.resetQuery())
                .addListener(cleaned -> {
                    if (cleaned.isSuccess()) {
                        returnToPool(backend);
                    } else {
                        log.debug("{}: closing a backend that could not be reset", key.describe());
                        closeCounted(backend);
                    }
                });
    }

    /** A backend given back between transactions: no reset, its frames go to the idle handler meanwhile. */
    private void idleAgain(PooledBackend backend) {
        if (!backend.detachToIdle()) {
            closeCounted(backend);
            return;
        }
        returnToPool(backend);
    }

    private void returnToPool(PooledBackend backend) {
        if (backend.createdNanos() - reconnectBeforeNanos() < 0 // RECONNECT came while it was being reset
                || (waiting() == 0 && slots.othersWaiting(this))) { // another pool of a full shard needs the slot
            closeCounted(backend);
            return;
        }
        Waiters.Waiter waiter;
        synchronized (this) {
            waiter = waiters.next(backend.loop());
            if (waiter == null) {
                idle.add(backend);
                return;
            }
            inUse++;
        }
        meters.served(backend.loop() == waiter.loop() ? PoolMeters.Served.SAME_LOOP : PoolMeters.Served.OTHER_LOOP);
        if (!waiter.promise().trySuccess(backend)) {
            release(backend, Release.CLEAN, 0, null);
        }
    }

    /** Closes a backend; its slot goes to the next waiter of this pool, or of another pool of the shard. */
    private void closeCounted(PooledBackend backend) {
        backend.close();
        synchronized (this) {
            open--;
        }
        slots.giveBack();
    }

    /** Closes the least recently used idle backend, to free a slot for another pool; false when none is idle. */
    boolean closeOneIdle() {
        PooledBackend victim;
        synchronized (this) {
            victim = idle.pollLeastRecent();
        }
        if (victim == null) {
            return false;
        }
        closeCounted(victim);
        return true;
    }

    /** Opens a connection for the next waiter if the pool and the shard have room; true when it did. */
    boolean serveWaiters() {
        Waiters.Waiter waiter;
        synchronized (this) {
            if (waiters.isEmpty() || open >= config.size() || closed) {
                return false;
            }
        }
        if (!slots.tryTake(this)) {
            return false;
        }
        synchronized (this) {
            waiter = waiters.poll();
            if (waiter == null || closed) {
                waiter = null;
            } else {
                waiter.timeout().cancel(false);
                open++;
            }
        }
        if (waiter == null) {
            slots.giveBack();
            return false;
        }
        meters.served(PoolMeters.Served.NEW);
        openFor(waiter.loop(), waiter.login(), waiter.promise());
        return true;
    }

    private void waitTimedOut(Promise<PooledBackend> promise) {
        int openNow;
        synchronized (this) {
            waiters.remove(promise);
            openNow = open;
        }
        promise.tryFailure(Waiters.timedOut(key, openNow < config.size(), slots.limit(), slots.serverLimits()));
    }

    /** Closes idle backends past idle_timeout or max_lifetime. Called periodically. */
    void evictExpired() {
        List<PooledBackend> expired = new ArrayList<>();
        synchronized (this) {
            idle.removeExpired(expired);
        }
        expired.forEach(this::closeCounted);
    }

    /** Opens connections on {@code loop} until min_idle are idle. Called periodically. */
    void fillMinIdle(EventLoop loop) {
        ShardLogin login;
        synchronized (this) {
            if (closed || lastLogin == null || idle.size() >= config.minIdle() || open >= config.size()
                    || !waiters.isEmpty()) {
                return;
            }
            login = lastLogin;
        }
        if (!slots.tryTake(this)) {
            return;
        }
        synchronized (this) {
            open++;
        }
        Promise<PooledBackend> opened = loop.newPromise();
        opened.addListener((Future<PooledBackend> result) -> {
            if (result.isSuccess()) {
                release(result.getNow(), Release.CLEAN, 0, null);
            }
        });
        openFor(loop, login, opened);
    }

    /**
     * Retires the pool when it has had no connection and no waiter for {@code idleNanos}: it takes no more
     * acquisitions (they go to a new pool), so that the set of pools cannot grow without bound.
     */
    synchronized boolean retireIfEmpty(long idleNanos) {
        long now = System.nanoTime();
        if (open > 0 || !waiters.isEmpty()) {
            emptySinceNanos = now;
            return false;
        }
        if (now - emptySinceNanos < idleNanos) {
            return false;
        }
        closed = true;
        return true;
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

    // read-only views and RECONNECT, for the admin console and the HTTP API

    /** How long the oldest waiting acquisition has waited, in nanoseconds; 0 when none waits. */
    public synchronized long maxWaitNanos() {
        return waiters.maxWaitNanos();
    }

    /** The idle backends now, least recently used first. */
    public synchronized List<PooledBackend> idleBackends() {
        return idle.list();
    }

    /**
     * RECONNECT: closes the idle backends now, and each backend in use when it is released, so that every
     * connection is new once its client is done; new connections can be opened at once.
     */
    public void reconnect() {
        List<PooledBackend> idleNow;
        synchronized (this) {
            reconnectBeforeNanos = System.nanoTime();
            idleNow = idle.drain();
        }
        idleNow.forEach(this::closeCounted);
    }

    private synchronized long reconnectBeforeNanos() {
        return reconnectBeforeNanos;
    }

    /** Closes idle connections and refuses to keep released ones; waiters fail. */
    void close() {
        List<PooledBackend> all;
        List<Waiters.Waiter> waiting;
        synchronized (this) {
            closed = true;
            all = idle.drain();
            waiting = waiters.drain();
        }
        all.forEach(this::closeCounted);
        Waiters.shutDown(waiting);
    }
}
