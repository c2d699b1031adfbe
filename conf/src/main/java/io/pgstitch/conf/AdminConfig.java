package io.pgstitch.conf;

import java.util.List;

/** {@code admin}: who may use the admin console, and the HTTP endpoint (null when off). */
public record AdminConfig(List<String> users, HttpEndpoint http) {

    public AdminConfig {
        users = List.copyOf(users);
    }
}
