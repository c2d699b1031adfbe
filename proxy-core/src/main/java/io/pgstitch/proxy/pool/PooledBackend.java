package io.pgstitch.proxy.pool;

import io.netty.channel.EventLoop;
import io.pgstitch.proxy.backend.BackendConnection;

/** A backend connection that belongs to a pool, with the times the pool's limits are measured by. */
public final class PooledBackend {

    /**
     * The name under which a session adds its handler to the backend's pipeline. On release the pool replaces
     * that handler in one step, so that no frame the backend sends falls between the two.
     */
    public static final String SESSION_HANDLER = "session";

    private final BackendPool pool;
    private final BackendConnection connection;
    private final long createdNanos;
    private long releasedNanos;

    PooledBackend(BackendPool pool, BackendConnection connection, long createdNanos) {
        this.pool = pool;
        this.connection = connection;
        this.createdNanos = createdNanos;
        this.releasedNanos = createdNanos;
    }

    public BackendConnection connection() {
        return connection;
    }

    public BackendPool pool() {
        return pool;
    }

    EventLoop loop() {
        return connection.channel().eventLoop();
    }

    long createdNanos() {
        return createdNanos;
    }

    long releasedNanos() {
        return releasedNanos;
    }

    void releasedAt(long nanos) {
        releasedNanos = nanos;
    }

    boolean isActive() {
        return connection.channel().isActive();
    }

    void close() {
        connection.channel().close();
    }
}
