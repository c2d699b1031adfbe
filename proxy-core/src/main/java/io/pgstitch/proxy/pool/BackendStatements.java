package io.pgstitch.proxy.pool;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The prepared statements a pooled backend holds for its transaction-mode clients, by backend name, least recently
 * used first; at most {@code pool.max_prepared_statements}. Touched on the backend's loop by the lease using it.
 */
public final class BackendStatements {

    private final int capacity;
    private final LinkedHashMap<String, byte[]> prepared = new LinkedHashMap<>(16, 0.75f, true);

    BackendStatements(int capacity) {
        this.capacity = capacity;
    }

    /** A backend's statements kept apart from any pool, for {@code capacity} at most (tests of their users). */
    public static BackendStatements withCapacity(int capacity) {
        return new BackendStatements(capacity);
    }

    /** Whether the backend has {@code statement} under its name, with the same definition (and marks it used). */
    public boolean has(PreparedStatements.Statement statement) {
        byte[] definition = prepared.get(statement.serverName());
        return definition != null && Arrays.equals(definition, statement.definition());
    }

    /** Whether some statement (perhaps of another definition, a hash collision) holds that name. */
    public boolean holdsName(String serverName) {
        return prepared.containsKey(serverName);
    }

    /**
     * Records {@code statement} as prepared; returns the name of the least recently used statement to close
     * because the backend is full, or null.
     */
    public String add(PreparedStatements.Statement statement) {
        prepared.put(statement.serverName(), statement.definition());
        if (prepared.size() <= capacity) {
            return null;
        }
        Iterator<Map.Entry<String, byte[]>> eldest = prepared.entrySet().iterator();
        String evicted = eldest.next().getKey();
        eldest.remove();
        return evicted;
    }

    /**
     * A Close of {@code serverName} was skipped after an error: the backend still holds that name, with a
     * definition no longer known here, so that {@link #has} is false for it and {@link #holdsName} true.
     */
    public void stillHolds(String serverName) {
        prepared.put(serverName, null);
    }

    public void remove(String serverName) {
        prepared.remove(serverName);
    }

    /** The backend's statements are gone (DISCARD ALL, DEALLOCATE ALL). */
    public void clear() {
        prepared.clear();
    }

    public int size() {
        return prepared.size();
    }
}
