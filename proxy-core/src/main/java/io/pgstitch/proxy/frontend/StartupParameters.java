package io.pgstitch.proxy.frontend;

import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The settings a client's startup packet asks for, as a backend session must have them: every parameter other
 * than user, database and replication, with {@code options} expanded into its {@code -c name=value} and
 * {@code --name=value} settings (whitespace separates them, a backslash escapes the next character, as in
 * PostgreSQL's pg_split_opts). Pooled connections are opened without them and are given, when a client takes one,
 * exactly those that differ from what the connection has.
 */
final class StartupParameters {

    private StartupParameters() {
    }

    /** Name to value, in the client's order; an {@code options} setting comes where {@code options} was. */
    static Map<String, String> of(Map<String, String> sessionParameters) {
        Map<String, String> settings = new LinkedHashMap<>();
        sessionParameters.forEach((name, value) -> {
            if (name.equals("options")) {
                settings.putAll(options(value));
            } else {
                settings.put(name, value);
            }
        });
        return settings;
    }

    /** The settings of {@code settings} that {@code current} (a backend's reported parameters) does not have. */
    static Map<String, String> differing(Map<String, String> settings, Map<String, String> current) {
        Map<String, String> differing = new LinkedHashMap<>();
        settings.forEach((name, value) -> {
            if (!value.equals(reported(current, name))) {
                differing.put(name, value);
            }
        });
        return differing;
    }

    /** GUC names are case-insensitive; ParameterStatus spells them canonically ({@code DateStyle}). */
    private static String reported(Map<String, String> current, String name) {
        String exact = current.get(name);
        if (exact != null) {
            return exact;
        }
        for (Map.Entry<String, String> entry : current.entrySet()) {
            if (entry.getKey().equalsIgnoreCase(name)) {
                return entry.getValue();
            }
        }
        return null;
    }

    static Map<String, String> options(String options) {
        Map<String, String> settings = new LinkedHashMap<>();
        String pendingSwitch = null;
        for (String word : words(options)) {
            String setting;
            if (pendingSwitch != null) {
                setting = word;
                pendingSwitch = null;
            } else if (word.equals("-c")) {
                pendingSwitch = word;
                continue;
            } else if (word.startsWith("-c")) {
                setting = word.substring(2);
            } else if (word.startsWith("--")) {
                setting = word.substring(2);
            } else {
                throw PgException.fatal(SqlState.FEATURE_NOT_SUPPORTED, "startup option \"" + word
                        + "\" is not supported by pgstitch").withHint("Use -c name=value in options.");
            }
            int equals = setting.indexOf('=');
            if (equals <= 0) {
                throw PgException.fatal(SqlState.INVALID_PARAMETER_VALUE,
                        "-c " + setting + " requires a value");
            }
            settings.put(setting.substring(0, equals).replace('-', '_'), setting.substring(equals + 1));
        }
        if (pendingSwitch != null) {
            throw PgException.fatal(SqlState.INVALID_PARAMETER_VALUE, "-c requires a value");
        }
        return settings;
    }

    private static java.util.List<String> words(String options) {
        java.util.List<String> words = new java.util.ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean escaped = false;
        boolean inWord = false;
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (escaped) {
                word.append(c);
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }
}
