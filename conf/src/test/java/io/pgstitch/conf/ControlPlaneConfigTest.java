package io.pgstitch.conf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code admin} (HTTP tokens, routes file, per-database meters) and {@code logging}. */
class ControlPlaneConfigTest {

    private static final String SHARDS = "shards: { shard1: { user: u }, shard2: { user: u } }\n";

    private static ProxyConfig parse(Path dir, String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, dir, Map.of("TOKEN", "t0ken")::get);
    }

    private static List<String> problems(Path dir, String yaml) {
        try {
            parse(dir, yaml);
            return List.of();
        } catch (ConfigException e) {
            return e.problems();
        }
    }

    @Test
    void adminSettingsParse(@TempDir Path dir) throws Exception {
        ProxyConfig config = parse(dir, SHARDS + """
                admin:
                  users: [admin]
                  http: { host: 0.0.0.0, port: 9931, tokens: ["${TOKEN}"], tls: true }
                  routes_file: api-routes.yaml
                  metrics: { per_database: true }
                logging: { format: json }
                """);
        assertThat(config.admin()).isEqualTo(new AdminConfig(List.of("admin"),
                new HttpEndpoint("0.0.0.0", 9931, List.of("t0ken"), true), dir.resolve("api-routes.yaml"), true));
        assertThat(config.admin().http().toString()).doesNotContain("t0ken");
        assertThat(config.logFormat()).isEqualTo(LogFormat.JSON);
        assertThat(parse(dir, SHARDS).logFormat()).isEqualTo(LogFormat.TEXT);
    }

    @Test
    void aNonLoopbackApiNeedsAToken(@TempDir Path dir) {
        assertThat(problems(dir, SHARDS + "admin: { http: { host: 0.0.0.0 } }")).containsExactly(
                "admin.http.host: 0.0.0.0 is not a loopback address, so admin.http.tokens are required (anyone who "
                        + "reaches the port could change routes and end sessions)");
        assertThat(problems(dir, SHARDS + "admin: { http: { host: \"::1\" } }")).isEmpty();
        assertThat(problems(dir, SHARDS + "admin: { http: { tokens: [''] } }")).containsExactly(
                "admin.http.tokens[0]: empty token (an unset variable expands to nothing?)");
        assertThat(problems(dir, SHARDS + "logging: { format: xml }")).containsExactly(
                "logging.format: unknown value \"xml\" (expected one of: text, json)");
    }

    /** The console answers to pgstitch and pgbouncer before routing, so such a route would be silently hidden. */
    @Test
    void theConsolesDatabaseNamesCannotBeRouted(@TempDir Path dir) {
        assertThat(problems(dir, SHARDS + "routes: { pgstitch: shard1, pgbouncer: { shard: shard2 }, \"pg*\": shard1 }"))
                .containsExactly("routes.pgstitch: \"pgstitch\" is the admin console's database; a route for it "
                                + "would never be used",
                        "routes.pgbouncer: \"pgbouncer\" is the admin console's database; a route for it would never "
                                + "be used");
    }

    @Test
    void theRoutesFileAddsRoutesValidatedAsTheMainFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("api-routes.yaml");
        String yaml = SHARDS + "admin: { routes_file: api-routes.yaml }\nroutes: { tenant_a: shard1 }\n";
        assertThat(parse(dir, yaml).routes()).as("no file yet: no API routes")
                .containsExactly(new RouteConfig("tenant_a", "shard1", null));

        Map<String, RoutesFile.Target> routes = new LinkedHashMap<>();
        routes.put("tenant_x", new RoutesFile.Target("shard2", "tx"));
        routes.put("org_*", new RoutesFile.Target("shard1", null));
        RoutesFile.write(file, routes);
        assertThat(RoutesFile.read(file)).isEqualTo(routes);
        assertThat(Files.readString(file)).startsWith("# Written by pgstitch's admin API");
        assertThat(parse(dir, yaml).routes()).containsExactly(new RouteConfig("tenant_a", "shard1", null),
                new RouteConfig("tenant_x", "shard2", "tx"), new RouteConfig("org_*", "shard1", null));
        try (var leftovers = Files.list(dir)) {
            assertThat(leftovers).as("the temporary file was renamed").containsExactly(file);
        }

        routes.put("tenant_a", new RoutesFile.Target("nope", null));
        RoutesFile.write(file, routes);
        assertThat(problems(dir, yaml)).containsExactly(
                "admin.routes_file api-routes.yaml: routes.tenant_a: unknown shard \"nope\" "
                        + "(shards: shard1, shard2)");
        routes.put("tenant_a", new RoutesFile.Target("shard2", null));
        RoutesFile.write(file, routes);
        assertThat(problems(dir, yaml)).containsExactly("admin.routes_file api-routes.yaml: routes.tenant_a: also "
                + "routed in the configuration file (a route belongs to one of the two)");

        Files.writeString(file, "routes: [");
        assertThatThrownBy(() -> parse(dir, yaml)).isInstanceOf(ConfigException.class);
    }
}
