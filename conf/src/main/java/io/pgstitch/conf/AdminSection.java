package io.pgstitch.conf;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * Reads {@code admin} (console users, the HTTP API's endpoint and tokens, routes_file, metrics) for
 * {@link ConfigReader}, with the same path-qualified problems.
 */
final class AdminSection {

    private final ConfigValues values;
    private final List<String> problems;

    AdminSection(ConfigValues values) {
        this.values = values;
        this.problems = values.problems();
    }

    AdminConfig read(JsonNode node) {
        values.keys(node, "admin", "users", "http", "routes_file", "metrics");
        HttpEndpoint http = null;
        JsonNode httpNode = node.get("http");
        if (httpNode != null && !httpNode.isNull() && values.mapping(httpNode, "admin.http")) {
            values.keys(httpNode, "admin.http", "host", "port", "tokens", "tls");
            String host = values.nonEmpty(httpNode, "admin.http", "host", "127.0.0.1");
            int known = problems.size();
            List<String> tokens = values.stringList(httpNode, "admin.http", "tokens");
            for (int i = 0; i < tokens.size() && problems.size() == known; i++) { // an unset variable is named once
                if (tokens.get(i).isBlank()) {
                    problems.add("admin.http.tokens[" + i + "]: empty token (an unset variable expands to nothing?)");
                }
            }
            if (tokens.isEmpty() && !HttpSection.isLoopback(host)) {
                problems.add("admin.http.host: " + host + " is not a loopback address, so admin.http.tokens are "
                        + "required (anyone who reaches the port could change routes and end sessions)");
            }
            http = new HttpEndpoint(host, values.integer(httpNode, "admin.http", "port", 9930, 0, 65535), tokens,
                    values.bool(httpNode, "admin.http", "tls", false));
        }
        JsonNode metrics = values.child(node, "admin", "metrics");
        values.keys(metrics, "admin.metrics", "per_database");
        return new AdminConfig(values.stringList(node, "admin", "users"), http,
                values.path(node, "admin", "routes_file"), values.bool(metrics, "admin.metrics", "per_database", false));
    }
}
