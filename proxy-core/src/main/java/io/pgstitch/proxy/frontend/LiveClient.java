package io.pgstitch.proxy.frontend;

import io.pgstitch.proxy.metrics.ClientCounters;
import io.pgstitch.proxy.pool.PooledBackend;

import java.net.SocketAddress;

/**
 * A client connection as the admin console and the HTTP API see it: read-only, from any thread (values may be a
 * moment old), plus {@link #terminate}. Listed by {@link ClientRegistry} from its startup packet until it leaves.
 */
public interface LiveClient {

    /** Where a client stands, in PgBouncer's terms. */
    enum Phase {
        /** Sent its startup packet, not logged in yet. */
        LOGIN,
        /** Logged in, waiting for a server connection (a full pool, or held by PAUSE). */
        WAITING,
        /** Logged in with a server connection (or on the admin console). */
        ACTIVE
    }

    /** Unique in this process, never reused; the id the HTTP API and the logs use. */
    long id();

    String userName();

    String database();

    SocketAddress remoteAddress();

    SocketAddress localAddress();

    long connectedAtMillis();

    Phase phase();

    /** How long it has been waiting for a server now (SHOW CLIENTS's wait and wait_us); 0 when not waiting. */
    long waitingNanos();

    boolean encrypted();

    /** The client's application_name startup parameter; empty when it sent none. */
    String applicationName();

    /** The shard its database ID was routed to; null before routing and on the admin console. */
    String shard();

    /** The server connection it holds; null when it holds none. */
    PooledBackend server();

    ClientCounters counters();

    /** Ends the session with FATAL 57P01 and {@code reason}, on the client's own event loop. */
    void terminate(String reason);
}
