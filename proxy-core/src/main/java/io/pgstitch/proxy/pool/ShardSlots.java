package io.pgstitch.proxy.pool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collection;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The connections one shard may have open, all its pools together (every database, user and purpose): a total no
 * mix of tenants can exceed. It is the shard's configured {@code max_connections}, or less when the server allows
 * fewer (its own {@code max_connections} less its reserved slots, asked on the first connection). A pool that needs a connection
 * when the shard is full first closes an idle connection of another pool of the shard (as PgBouncer does), and
 * otherwise waits; every slot given back is offered to the pools of the shard that have waiters.
 */
final class ShardSlots {

    private static final Logger log = LoggerFactory.getLogger(ShardSlots.class);

    /** Follows the configuration: the newest pool made for the shard brings the limit in force. */
    private volatile int configured;
    /** What the server allows pgstitch's roles; -1 until its first connection has asked. */
    private volatile int server = -1;
    private final AtomicInteger open = new AtomicInteger();
    private final Collection<BackendPool> pools;

    /** @param pools the live pools of this shard, to free idle connections from and to serve waiters of */
    ShardSlots(int limit, Collection<BackendPool> pools) {
        this.configured = limit;
        this.pools = pools;
    }

    int limit() {
        int allowed = server;
        return allowed < 0 ? configured : Math.min(configured, allowed);
    }

    /** Whether the server's own limit binds, not the configured one. */
    boolean serverLimits() {
        int allowed = server;
        return allowed >= 0 && allowed < configured;
    }

    void limit(int limit) {
        this.configured = limit;
    }

    /** Whether the next connection should ask the server its limit. */
    boolean serverLimitUnknown() {
        return server < 0;
    }

    /** The server allows {@code allowed} connections to roles without reserved slots. */
    void serverAllows(String shard, int allowed) {
        if (server != allowed && allowed < configured) {
            log.info("shard {} allows {} connections (its max_connections less its reserved ones), fewer than "
                    + "shards.{}.max_connections {}: pgstitch opens at most {}", shard, allowed, shard, configured,
                    allowed);
        }
        server = allowed;
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
            if (now >= limit()) {
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
