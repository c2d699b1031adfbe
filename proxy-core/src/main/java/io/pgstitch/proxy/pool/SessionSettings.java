package io.pgstitch.proxy.pool;

import io.pgstitch.proxy.backend.SetConfigQuery;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The session-level settings of a client in transaction or statement mode, or of a pooled backend: every
 * parameter whose value comes from the session (pg_settings.source = 'session': SET, set_config(..., false),
 * and the client's startup parameters, which pgstitch applies with set_config), and the placeholder variables
 * ({@code app.tenant}) defined in it, which pg_settings does not show and nothing can undefine.
 *
 * <p>Values are the client's bytes, one char per byte (ISO-8859-1), so that they go back exactly as they came.
 */
public final class SessionSettings {

    /** Per-transaction parameters that pg_settings shows as set by the session while a block is open. */
    private static final Set<String> TRANSACTION_SCOPED = Set.of("transaction_isolation", "transaction_read_only",
            "transaction_deferrable");

    private final Map<String, String> settings = new LinkedHashMap<>();
    private final Map<String, String> placeholders = new LinkedHashMap<>();

    /** One row of {@link #readQuery}: a parameter, its value (null: a candidate not defined there), and its kind. */
    public record Row(String name, String value, boolean placeholder) {
    }

    /**
     * The query that reads a session's settings back: one row (name, value, false) per parameter set by the
     * session, then one (name, value, true) per name of {@code candidates} (dotted names the client has set) that
     * is a placeholder there.
     */
    public static String readQuery(Set<String> candidates) {
        StringBuilder sql = new StringBuilder("SELECT name, pg_catalog.current_setting(name), false"
                + " FROM pg_catalog.pg_settings WHERE source = 'session'");
        if (!candidates.isEmpty()) {
            sql.append(" UNION ALL SELECT n, pg_catalog.current_setting(n, true), true FROM pg_catalog.unnest(ARRAY[");
            int i = 0;
            for (String name : new TreeSet<>(candidates)) {
                sql.append(i++ == 0 ? "" : ", ").append(SetConfigQuery.literal(name));
            }
            sql.append("]::text[]) n WHERE n NOT IN (SELECT name FROM pg_catalog.pg_settings)");
        }
        return sql.toString();
    }

    /** Replaces these settings with what {@link #readQuery} returned; placeholders once defined stay defined. */
    public void replaceWith(List<Row> rows) {
        settings.clear();
        for (Row row : rows) {
            if (row.value() == null) {
                continue; // a candidate never defined (its SET failed)
            }
            if (row.placeholder()) {
                placeholders.put(row.name(), row.value());
            } else if (!TRANSACTION_SCOPED.contains(row.name())) {
                settings.put(row.name(), row.value());
            }
        }
    }

    /** Placeholder variables defined in this session, by name. */
    public Set<String> placeholderNames() {
        return placeholders.keySet();
    }

    /**
     * Whether a backend with {@code backend}'s settings can serve this client: it must not have a placeholder this
     * client never defined (the client would read '' where PostgreSQL says NULL).
     */
    public boolean canUse(SessionSettings backend) {
        return placeholders.keySet().containsAll(backend.placeholders.keySet());
    }

    /**
     * The queries that give {@code backend} exactly these settings (each is one simple Query, to run in order),
     * empty when it has them already. client_encoding comes in a query of its own, first: PostgreSQL converts a
     * whole Query message with the encoding in force when it arrives.
     */
    public List<String> applyTo(SessionSettings backend) {
        Map<String, String> set = new LinkedHashMap<>();
        List<String> reset = new ArrayList<>();
        settings.forEach((name, value) -> {
            if (!value.equals(backend.settings.get(name))) {
                set.put(name, value);
            }
        });
        backend.settings.keySet().stream().filter(name -> !settings.containsKey(name)).forEach(reset::add);
        placeholders.forEach((name, value) -> {
            if (!value.equals(backend.placeholders.get(name))) {
                set.put(name, value);
            }
        });
        List<String> queries = new ArrayList<>(2);
        String encoding = set.remove("client_encoding");
        if (encoding != null) {
            queries.add(SetConfigQuery.of(Map.of("client_encoding", encoding)));
        }
        StringBuilder sql = new StringBuilder();
        String setting = SetConfigQuery.of(set);
        if (setting != null) {
            sql.append(setting);
        }
        for (String name : reset) {
            sql.append(sql.isEmpty() ? "" : "; ").append("RESET ").append(quoted(name));
        }
        if (!sql.isEmpty()) {
            queries.add(sql.toString());
        }
        return queries;
    }

    /** After {@link #applyTo}: {@code backend} now has these settings (and keeps its placeholders). */
    public void copyTo(SessionSettings backend) {
        backend.settings.clear();
        backend.settings.putAll(settings);
        backend.placeholders.putAll(placeholders);
    }

    /** The backend was reset (DISCARD ALL): its settings are the defaults again; placeholders survive it. */
    public void reset() {
        settings.clear();
        placeholders.replaceAll((name, value) -> "");
    }

    private static String quoted(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }
}
