package io.pgstitch.proxy.backend;

import java.util.Map;

/**
 * The query that gives a backend session settings: {@code SELECT pg_catalog.set_config('name', 'value', false),
 * ...} — a session-level SET of each, in one round trip, whose ParameterStatus answers report the new values of
 * the reported ones. Names and values are quoted so that nothing in them can end the literal.
 */
public final class SetConfigQuery {

    private SetConfigQuery() {
    }

    /** The query for {@code settings} (name to value, in order), or null when there is nothing to set. */
    public static String of(Map<String, String> settings) {
        if (settings.isEmpty()) {
            return null;
        }
        StringBuilder sql = new StringBuilder();
        settings.forEach((name, value) -> sql.append(sql.isEmpty() ? "SELECT " : ", ")
                .append("pg_catalog.set_config(").append(literal(name)).append(", ").append(literal(value))
                .append(", false)"));
        return sql.toString();
    }

    /**
     * An escape-string literal with no quote, backslash or dollar sign left in it, so that it is safe inside
     * any quoting and under either standard_conforming_strings.
     */
    public static String literal(String value) {
        StringBuilder out = new StringBuilder(value.length() + 3).append("E'");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\'' -> out.append("\\x27");
                case '\\' -> out.append("\\\\");
                case '$' -> out.append("\\x24");
                default -> out.append(c);
            }
        }
        return out.append('\'').toString();
    }
}
