package io.pgstitch.conf;

/** {@code logging.format}: one human-readable line per event, or one JSON object per line. */
public enum LogFormat {
    TEXT,
    JSON;

    public String spelling() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
