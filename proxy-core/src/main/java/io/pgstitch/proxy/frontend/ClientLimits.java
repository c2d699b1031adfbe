package io.pgstitch.proxy.frontend;

import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * {@code listen.max_client_connections}, counted from the startup packet on, and
 * {@code max_client_connections_per_database}, counted once the client has authenticated (as PostgreSQL's
 * per-database limit: a stranger who never answers the password request cannot fill a tenant's slots); both are
 * released when the session ends. The limits are read at each login, so a reload applies at once; so is
 * {@code listen.max_message_size}, which each session applies from its login on.
 */
public final class ClientLimits {

    private final IntSupplier maxTotal;
    private final IntSupplier maxPerDatabase;
    private final IntSupplier maxMessageSize;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentMap<String, AtomicInteger> perDatabase = new ConcurrentHashMap<>();

    public ClientLimits(IntSupplier maxTotal, IntSupplier maxPerDatabase, IntSupplier maxMessageSize) {
        this.maxTotal = maxTotal;
        this.maxPerDatabase = maxPerDatabase;
        this.maxMessageSize = maxMessageSize;
    }

    /** {@code listen.max_message_size}: the longest message a session reads whole. */
    public int maxMessageSize() {
        return maxMessageSize.getAsInt();
    }

    /** Counts one more client, or refuses it with FATAL 53300. */
    public void admit() {
        if (total.incrementAndGet() > maxTotal.getAsInt()) {
            total.decrementAndGet();
            throw PgException.fatal(SqlState.TOO_MANY_CONNECTIONS, "sorry, too many clients already: pgstitch "
                    + "accepts at most " + maxTotal.getAsInt() + " (listen.max_client_connections)");
        }
    }

    public void leave() {
        total.decrementAndGet();
    }

    /** Counts one more authenticated client of {@code databaseId}, or refuses it with FATAL 53300. */
    public void admitTo(String databaseId) {
        int limit = maxPerDatabase.getAsInt();
        int count = perDatabase.computeIfAbsent(databaseId, id -> new AtomicInteger()).incrementAndGet();
        if (limit > 0 && count > limit) {
            leaveFrom(databaseId);
            throw PgException.fatal(SqlState.TOO_MANY_CONNECTIONS, "too many connections for database \""
                    + databaseId + "\": at most " + limit + " (listen.max_client_connections_per_database)");
        }
    }

    public void leaveFrom(String databaseId) {
        perDatabase.computeIfPresent(databaseId, (id, count) -> count.decrementAndGet() == 0 ? null : count);
    }

    public int total() {
        return total.get();
    }
}
