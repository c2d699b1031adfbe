package io.pgstitch.proxy.pool;

import io.netty.channel.EventLoop;
import io.pgstitch.conf.PoolConfig;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The idle backends of a {@link BackendPool}, least recently used first, and which one serves a client: the most
 * recently used one on the client's own loop, and one from another loop only when the pool asks for it; a backend
 * past {@code pool.idle_timeout} or {@code pool.max_lifetime}, or closed, is never handed out. Apart from the
 * pool's counters so that this choice reads on its own. Not thread-safe: the pool's lock guards it; what it gives
 * up the pool closes, outside the lock.
 */
final class IdleBackends {

    private final PoolConfig config;
    /** Most recently released last. */
    private final ArrayDeque<PooledBackend> idle = new ArrayDeque<>();

    IdleBackends(PoolConfig config) {
        this.config = config;
    }

    /**
     * The most recently used idle backend on {@code loop}, else (when {@code anyLoop}) the most recently used one
     * anywhere; expired or broken ones found on the way are moved to {@code discarded}.
     */
    PooledBackend take(EventLoop loop, List<PooledBackend> discarded, boolean anyLoop) {
        removeExpired(discarded);
        for (Iterator<PooledBackend> it = idle.descendingIterator(); it.hasNext(); ) {
            PooledBackend backend = it.next();
            if (backend.loop() == loop) {
                it.remove();
                return backend;
            }
        }
        return anyLoop ? idle.pollLast() : null;
    }

    /** A backend released now, ready for its next client. */
    void add(PooledBackend backend) {
        backend.releasedAt(System.nanoTime());
        idle.addLast(backend);
    }

    /** The least recently used idle backend, or null. */
    PooledBackend pollLeastRecent() {
        return idle.pollFirst();
    }

    /** Moves the backends past idle_timeout or max_lifetime, or closed, to {@code expired}. */
    void removeExpired(List<PooledBackend> expired) {
        idle.removeIf(backend -> !isUsable(backend) && expired.add(backend));
    }

    private boolean isUsable(PooledBackend backend) {
        long now = System.nanoTime();
        return backend.isActive() && now - backend.releasedNanos() < config.idleTimeout().toNanos()
                && now - backend.createdNanos() < config.maxLifetime().toNanos();
    }

    int size() {
        return idle.size();
    }

    /** The idle backends now, least recently used first. */
    List<PooledBackend> list() {
        return new ArrayList<>(idle);
    }

    /** Removes every idle backend, least recently used first, for the caller to close outside the lock. */
    List<PooledBackend> drain() {
        List<PooledBackend> all = new ArrayList<>(idle);
        idle.clear();
        return all;
    }
}
