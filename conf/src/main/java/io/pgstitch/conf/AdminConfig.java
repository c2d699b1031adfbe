package io.pgstitch.conf;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code admin}: who may use the admin console, the HTTP endpoint (null when off), the routes file the HTTP API
 * writes (null: routes cannot be changed through the API), and whether meters carry a {@code database} tag.
 */
public record AdminConfig(List<String> users, HttpEndpoint http, Path routesFile, boolean metricsPerDatabase) {

    public AdminConfig {
        users = List.copyOf(users);
    }

    public AdminConfig(List<String> users, HttpEndpoint http) {
        this(users, http, null, false);
    }
}
