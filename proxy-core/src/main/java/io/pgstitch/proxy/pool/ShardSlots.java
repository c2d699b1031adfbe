package io.pgstitch.proxy.pool;

import java.util.Collection;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The connections one shard may have open, all its pools together (every database, user and purpose): a total no
 * mix of tenants can exceed, kept below the server's own {@code max_connections}. A pool that needs a connection
 * when the shard is full first closes an idle connection of another pool of the shard (as PgBouncer does), and
 * otherwise waits; every slot given back is offered to the pools of the shard that have waiters.
 */
final class ShardSlots {

    /** Follows the configuration: the newest pool made for the shard brings the limit in force. */
    private volatile int limit;
    private final AtomicInteger open = new AtomicInteger();
    private final Collection<BackendPool> pools;

    /** @param pools the live pools of this shard, to free idle connections from and to serve waiters of */
    ShardSlots(int limit, Collection<BackendPool> pools) {
        this.limit = limit;
        this.pools = pools;
    }

    int limit() {
        return limit;
    }

    void limit(int limit) {
        this.limit = limit;
    }

    int open() {
        return open.get();
    }

    /** Takes a slot, freeing an idle connection of another pool if the shard is full; false if none is free. */
    boolean tryTake(BackendPool taker) {
        if (take()) {
            return true;
        }
        for (BackendPool pool : pools) {
            if (pool != taker && pool.closeOneIdle()) {
                return take();
            }
        }
        return false;
    }

    private boolean take() {
        while (true) {
            int now = open.get();
            if (now >= limit) {
                return false;
            }
            if (open.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    /** Whether a pool of the shard other than {@code pool} has clients waiting (for a slot, when the shard is full). */
    boolean othersWaiting(BackendPool pool) {
        for (BackendPool other : pools) {
            if (other != pool && other.waiting() > 0) {
                return true;
            }
        }
        return false;
    }

    /** A connection of the shard was closed (or never opened): its slot goes to a pool that waits, if any. */
    void giveBack() {
        open.decrementAndGet();
        for (BackendPool pool : pools) {
            if (pool.serveWaiters()) {
                return;
            }
        }
    }
}
