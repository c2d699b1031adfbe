package io.pgstitch.conf;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads {@code http} (SQL over HTTP and WebSocket) for {@link ConfigReader}, with the same path-qualified
 * problems. Absent or null: off.
 */
final class HttpSection {

    /** Shorter tokens can be guessed; 16 characters of a random token are ~96 bits. */
    static final int MIN_TOKEN_LENGTH = 16;

    private final ConfigValues values;
    private final List<String> problems;

    HttpSection(ConfigValues values) {
        this.values = values;
        this.problems = values.problems();
    }

    /** @param listenTls the configuration's {@code listen.tls}: its certificate is the one HTTPS serves */
    HttpConfig read(JsonNode node, ListenTlsConfig listenTls) {
        if (node == null || node.isNull() || !values.mapping(node, "http")) {
            return null;
        }
        values.keys(node, "http", "host", "port", "tls", "allow_plaintext", "limits", "ping_interval", "tokens",
                "allowed_origins");
        String host = values.nonEmpty(node, "http", "host", "127.0.0.1");
        boolean tls = values.bool(node, "http", "tls", false);
        boolean allowPlaintext = values.bool(node, "http", "allow_plaintext", false);
        if (tls && listenTls.mode() == ListenTlsMode.DISABLE) {
            problems.add("http.tls: true serves the certificate of listen.tls, whose mode is disable (set "
                    + "listen.tls.mode and its cert and key)");
        }
        if (!tls && !allowPlaintext && !isLoopback(host)) {
            problems.add("http.host: " + host + " is not a loopback address, so http.tls must be true (HTTP Basic "
                    + "passwords and tokens would cross the network in the clear); behind a TLS-terminating proxy "
                    + "set http.allow_plaintext: true");
        }
        return new HttpConfig(host, values.integer(node, "http", "port", 8080, 0, 65535), tls, allowPlaintext,
                limits(values.child(node, "http", "limits")),
                values.duration(node, "http", "ping_interval", Duration.ofSeconds(30)), tokens(node.get("tokens")),
                origins(node));
    }

    /** {@code http.allowed_origins}: each {@code scheme://host[:port]} as a browser sends it, or {@code *}. */
    private List<String> origins(JsonNode node) {
        List<String> origins = values.stringList(node, "http", "allowed_origins");
        for (int i = 0; i < origins.size(); i++) {
            String origin = origins.get(i);
            if (!origin.equals("*") && !origin.matches("(?i)https?://[^/\\s]+")) {
                problems.add("http.allowed_origins[" + i + "]: \"" + origin + "\" is not an origin (scheme://host"
                        + "[:port], without a path, as a browser's Origin header says it) or *");
            }
        }
        return origins;
    }

    private HttpConfig.Limits limits(JsonNode node) {
        String path = "http.limits";
        values.keys(node, path, "max_request_bytes", "max_rows", "max_concurrent_requests",
                "websocket_idle_timeout");
        HttpConfig.Limits defaults = HttpConfig.Limits.defaults();
        return new HttpConfig.Limits(
                values.integer(node, path, "max_request_bytes", defaults.maxRequestBytes(), 64, 64 * 1024 * 1024),
                values.integer(node, path, "max_rows", defaults.maxRows(), 1, 100_000_000),
                values.integer(node, path, "max_concurrent_requests", defaults.maxConcurrentRequests(), 1, 100_000),
                values.duration(node, path, "websocket_idle_timeout", defaults.websocketIdleTimeout()));
    }

    /** {@code http.tokens}: user name to one token or a list of them (two while one is rotated out). */
    private Map<String, String> tokens(JsonNode node) {
        Map<String, String> byToken = new LinkedHashMap<>();
        if (node == null || node.isNull() || !values.mapping(node, "http.tokens")) {
            return byToken;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String user = entry.getKey();
            String path = "http.tokens." + user;
            values.checkName(path, "user name", user);
            JsonNode value = entry.getValue();
            List<String> tokens;
            if (value != null && value.isArray()) {
                tokens = values.stringList(node, "http.tokens", user);
            } else if (value != null && value.isValueNode() && !value.isNull()) {
                tokens = List.of(values.string(node, "http.tokens", user, ""));
            } else {
                problems.add(path + ": must be a token or a list of tokens");
                continue;
            }
            for (int i = 0; i < tokens.size(); i++) {
                String token = tokens.get(i);
                String where = path + (value.isArray() ? "[" + i + "]" : "");
                if (token.length() < MIN_TOKEN_LENGTH) {
                    problems.add(where + ": a token must have at least " + MIN_TOKEN_LENGTH + " characters, got "
                            + token.length() + (token.isEmpty() ? " (an unset variable expands to nothing?)" : ""));
                } else if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                    problems.add(where + ": a token may use only printable ASCII characters without spaces");
                } else {
                    String other = byToken.putIfAbsent(token, user);
                    if (other != null) {
                        problems.add(where + ": the same token is given to \"" + other + "\" (a token names one "
                                + "user)");
                    }
                }
            }
        }
        return byToken;
    }

    /** Loopback by its spelling only: a name is never resolved while a configuration is read. */
    static boolean isLoopback(String host) {
        String h = host.trim().toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
    }
}
