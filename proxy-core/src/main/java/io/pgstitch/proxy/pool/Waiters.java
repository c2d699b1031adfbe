package io.pgstitch.proxy.pool;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.proxy.backend.ShardLogin;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The acquisitions waiting for a backend of a full {@link BackendPool}, oldest first, and what they are told when
 * {@code pool.wait_timeout} passes (53300). Apart from the pool's counters so that the order in which they are
 * served reads on its own. Not thread-safe: the pool's lock guards it.
 */
final class Waiters {

    /**
     * A released backend goes to the first waiter on its own event loop (no task hop per message for the whole
     * transaction) rather than to the longest waiting one, unless that one has waited this long: bounded unfairness.
     */
    private static final long SAME_LOOP_PREFERENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    record Waiter(EventLoop loop, ShardLogin login, Promise<PooledBackend> promise,
                  ScheduledFuture<?> timeout, long queuedNanos) {
    }

    private final ArrayDeque<Waiter> queue = new ArrayDeque<>();

    /**
     * Queues an acquisition on {@code loop}; {@code timedOut} runs on that loop after {@code waitTimeout} (the
     * pool's {@code wait_timeout}), whether or not it was served meanwhile.
     */
    void add(EventLoop loop, ShardLogin login, Promise<PooledBackend> promise, Duration waitTimeout,
             Runnable timedOut) {
        ScheduledFuture<?> timeout = loop.schedule(timedOut, waitTimeout.toMillis(), TimeUnit.MILLISECONDS);
        queue.add(new Waiter(loop, login, promise, timeout, System.nanoTime()));
    }

    /** The longest waiting one, or null. */
    Waiter poll() {
        return queue.poll();
    }

    /**
     * The waiter a backend released on {@code loop} serves, its timeout cancelled: the first waiter on
     * {@code loop}, unless the longest waiting one has waited past {@link #SAME_LOOP_PREFERENCE_NANOS} (then it);
     * the longest waiting one when none is on {@code loop}; null when none waits.
     */
    Waiter next(EventLoop loop) {
        Waiter waiter = pick(loop);
        if (waiter != null) {
            waiter.timeout().cancel(false);
        }
        return waiter;
    }

    private Waiter pick(EventLoop loop) {
        Waiter head = queue.peekFirst();
        if (head == null || head.loop() == loop
                || System.nanoTime() - head.queuedNanos() > SAME_LOOP_PREFERENCE_NANOS) {
            return queue.poll();
        }
        for (Iterator<Waiter> it = queue.iterator(); it.hasNext(); ) {
            Waiter waiter = it.next();
            if (waiter.loop() == loop) {
                it.remove();
                return waiter;
            }
        }
        return queue.poll();
    }

    void remove(Promise<PooledBackend> promise) {
        queue.removeIf(waiter -> waiter.promise() == promise);
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    int size() {
        return queue.size();
    }

    /** How long the oldest waiter has waited, in nanoseconds; 0 when none waits. */
    long maxWaitNanos() {
        Waiter oldest = queue.peekFirst();
        return oldest == null ? 0 : System.nanoTime() - oldest.queuedNanos();
    }

    /** Removes every waiter, oldest first, for the caller to fail outside the lock. */
    List<Waiter> drain() {
        List<Waiter> all = new ArrayList<>(queue);
        queue.clear();
        return all;
    }

    /** Fails waiters {@link #drain}ed from a pool that closes. */
    static void shutDown(List<Waiter> waiting) {
        waiting.forEach(waiter -> waiter.promise().tryFailure(PgException.fatal(SqlState.ADMIN_SHUTDOWN,
                "pgstitch is shutting down")));
    }

    /**
     * Why a waiter of the pool of {@code key} got no backend within its wait_timeout.
     *
     * @param poolHadRoom the pool had fewer than {@code pool.size} open: the shard's total, {@code shardLimit}, was
     *                    the limit
     * @param serverLimits the server's own max_connections, not the configured total, set that limit
     */
    static PgException timedOut(PoolKey key, boolean poolHadRoom, int shardLimit, boolean serverLimits) {
        if (poolHadRoom) {
            String shard = key.shard().name();
            String which = serverLimits ? "the server's max_connections less its reserved ones"
                    : "shards." + shard + ".max_connections";
            return PgException.fatal(SqlState.TOO_MANY_CONNECTIONS, String.format(
                    "%s could not get a connection: shard \"%s\" has all its %d connections open (%s) and none "
                            + "was released within %d ms", key.describe(), shard, shardLimit, which,
                    key.config().waitTimeout().toMillis()))
                    .withHint(serverLimits ? "Raise the server's max_connections, or lower the pool sizes of its "
                            + "databases." : "Raise shards." + shard + ".max_connections (below the server's "
                            + "max_connections), or lower the pool sizes of its databases.");
        }
        return PgException.fatal(SqlState.TOO_MANY_CONNECTIONS, String.format(
                "%s is exhausted: all %d connections are in use and none was released within %d ms",
                key.describe(), key.config().size(), key.config().waitTimeout().toMillis()))
                .withHint("Raise " + key.sizeSettings() + ".");
    }
}
