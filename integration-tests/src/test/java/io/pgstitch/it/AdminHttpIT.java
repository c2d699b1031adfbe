package io.pgstitch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.conf.HttpEndpoint;
import io.pgstitch.it.AdminApi.Answer;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.proxy.server.ProxyRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import static io.pgstitch.it.AdminApi.assertError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The HTTP admin API with Java's HttpClient: bearer tokens, status, routes changed through a routes file and the
 * one reload path, clients, pause/resume, /metrics, and every error shape; the OpenAPI document's operations are
 * each answered.
 */
@ExtendWith(PostgresExtension.class)
class AdminHttpIT {

    private static final String TOKEN = "t0ken-for-tests";
    private static final ObjectMapper JSON = AdminApi.JSON;
    private static final HttpClient HTTP = AdminApi.HTTP;

    @TempDir
    static Path dir;
    static Path routesFile;
    static ProxyRuntime runtime;

    @BeforeAll
    static void start(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        Tenants.create(cluster.shard(2), "api_tenant", "api_tenant", "shard2");
        Path file = dir.resolve("pgstitch.yaml");
        routesFile = dir.resolve("api-routes.yaml");
        Files.writeString(file, TestProxy.standardRoutes(cluster) + """
                admin:
                  users: [admin]
                  http: { host: 127.0.0.1, port: 0, tokens: ["%s"] }
                  routes_file: api-routes.yaml
                """.formatted(TOKEN));
        runtime = ProxyRuntime.start(file, ConfigLoader.load(file), false,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    @AfterAll
    static void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    static Answer call(String method, String path, String body, String token) throws Exception {
        return new AdminApi(runtime.server().adminHttpAddress().getPort(), TOKEN).call(method, path, body, token);
    }

    static Answer call(String method, String path, String body) throws Exception {
        return call(method, path, body, TOKEN);
    }

    @Test
    void tokensAreRequiredExceptForProbes() throws Exception {
        assertThat(call("GET", "/healthz", null, null).status()).isEqualTo(200);
        Answer ready = call("GET", "/readyz", null, null);
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().get("ready").asBoolean()).isTrue();
        Answer missing = call("GET", "/api/v1/status", null, null);
        assertError(missing, 401, "UNAUTHORIZED");
        assertThat(missing.response().headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"pgstitch\"");
        assertError(call("GET", "/metrics", null, "wrong"), 401, "UNAUTHORIZED");
        assertError(call("GET", "/api/v1/status", null, TOKEN + "x"), 401, "UNAUTHORIZED");
        assertError(call("GET", "/api/v1/status", null, ""), 401, "UNAUTHORIZED");
        assertThat(call("GET", "/api/v1/status", null).status()).isEqualTo(200);
    }

    @Test
    void errorsAreObjectsWithFittingStatuses() throws Exception {
        assertError(call("GET", "/api/v1/nothing", null), 404, "NOT_FOUND");
        assertError(call("POST", "/api/v1/status", null), 405, "METHOD_NOT_ALLOWED");
        assertError(call("GET", "/api/v1/routes/not_routed", null), 404, "UNKNOWN_ROUTE");
        assertError(call("PUT", "/api/v1/routes/x_tenant", "{\"shard\": \"shard9\"}"), 422, "UNKNOWN_SHARD");
        assertThat(call("PUT", "/api/v1/routes/x_tenant", "{\"shard\": \"shard9\"}").json().get("hint").asText())
                .isEqualTo("Add it under shards or pick one of: shard1, shard2");
        assertError(call("PUT", "/api/v1/routes/x_tenant", "{not json"), 400, "BAD_REQUEST");
        assertError(call("PUT", "/api/v1/routes/x_tenant", "{\"shard\": 1}"), 400, "BAD_REQUEST");
        assertError(call("PUT", "/api/v1/routes/x_tenant", "{\"shard\": \"shard1\", \"user\": \"x\"}"), 400,
                "BAD_REQUEST");
        assertError(call("PUT", "/api/v1/routes/tenant_a", "{\"shard\": \"shard2\"}"), 409, "ROUTE_IN_CONFIG_FILE");
        assertError(call("DELETE", "/api/v1/routes/tenant_a", null), 409, "ROUTE_IN_CONFIG_FILE");
        assertError(call("PUT", "/api/v1/routes/pgstitch", "{\"shard\": \"shard2\"}"), 422, "INVALID_ROUTE");
        assertError(call("PUT", "/api/v1/routes/" + "x".repeat(64), "{\"shard\": \"shard2\"}"), 422,
                "INVALID_ROUTE");
        assertError(call("DELETE", "/api/v1/clients/123456789", null), 404, "UNKNOWN_CLIENT");
        assertError(call("DELETE", "/api/v1/clients/abc", null), 404, "UNKNOWN_CLIENT");
        assertError(call("POST", "/api/v1/pause", "{\"database\": \"nowhere\"}"), 404, "UNKNOWN_DATABASE");
        assertError(call("POST", "/api/v1/resume", "{\"database\": \"tenant_b\"}"), 409, "NOT_PAUSED");
        assertError(call("POST", "/api/v1/pause", "[1]"), 400, "BAD_REQUEST");
    }

    @Test
    void routesGoThroughTheRoutesFileAndTheReloadPath() throws Exception {
        assertThatThrownBy(() -> connect("api_tenant")).isInstanceOf(SQLException.class)
                .hasMessageContaining("is not routed");
        Answer created = call("PUT", "/api/v1/routes/api_tenant", "{\"shard\": \"shard2\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(created.json().get("source").asText()).isEqualTo("api");
        assertThat(Files.readString(routesFile)).contains("api_tenant: \"shard2\"");
        try (Connection client = connect("api_tenant")) {
            assertThat(whoami(client)).isEqualTo("api_tenant@shard2");
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(path -> path.getFileName().toString())).as("no temporary file left")
                    .containsExactlyInAnyOrder("pgstitch.yaml", "api-routes.yaml");
        }
        Answer changed = call("PUT", "/api/v1/routes/api_tenant", "{\"shard\": \"shard2\", \"database\": \"tb_db\"}");
        assertThat(changed.status()).isEqualTo(200);
        try (Connection client = connect("api_tenant")) {
            assertThat(whoami(client)).isEqualTo("tenant_b@shard2");
        }
        JsonNode all = call("GET", "/api/v1/routes", null).json();
        assertThat(all.findValuesAsText("database")).contains("tenant_a", "api_tenant");
        assertThat(call("GET", "/api/v1/routes/api_tenant", null).json().get("backend_database").asText())
                .isEqualTo("tb_db");

        String before = Files.readString(routesFile);
        Answer rejected = call("PUT", "/api/v1/routes/api_tenant", "{\"shard\": \"shard2\", \"database\": \"\"}");
        assertError(rejected, 422, "INVALID_ROUTE");
        assertThat(Files.readString(routesFile)).as("a failed change leaves the file as it was").isEqualTo(before);

        assertThat(call("DELETE", "/api/v1/routes/api_tenant", null).status()).isEqualTo(204);
        assertThatThrownBy(() -> connect("api_tenant")).isInstanceOf(SQLException.class)
                .hasMessageContaining("is not routed");
        assertError(call("DELETE", "/api/v1/routes/api_tenant", null), 404, "UNKNOWN_ROUTE");
        assertThat(call("POST", "/api/v1/reload", null).json().get("applied").asBoolean()).isTrue();
    }

    @Test
    void statusClientsPoolsShardsAndKillingAClient() throws Exception {
        try (Connection client = connect("tenant_a"); Connection other = connect("tenant_b")) {
            whoami(client);
            whoami(other);
            JsonNode clients = call("GET", "/api/v1/clients", null).json();
            JsonNode mine = null;
            for (JsonNode each : clients) {
                if (each.get("database").asText().equals("tenant_a")) {
                    mine = each;
                }
            }
            assertThat(mine).as(clients.toString()).isNotNull();
            assertThat(mine.get("state").asText()).isEqualTo("active");
            assertThat(call("GET", "/api/v1/pools", null).json().findValuesAsText("database")).contains("tenant_a");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            JsonNode status = call("GET", "/api/v1/status", null).json();
            while (!status.at("/status/code").asText().equals("OK") && System.nanoTime() < deadline) {
                Thread.sleep(50);
                status = call("GET", "/api/v1/status", null).json();
            }
            assertThat(status.at("/status/code").asText()).as(status.toString()).isEqualTo("OK");
            assertThat(status.at("/clients/active").asLong()).isGreaterThanOrEqualTo(1);
            assertThat(status.at("/config/file").asText()).endsWith("pgstitch.yaml");
            assertThat(status.get("shards").findValuesAsText("name")).containsExactly("shard1", "shard2");
            assertThat(call("GET", "/api/v1/shards", null).json().findValuesAsText("status"))
                    .containsExactly("up", "up");

            assertThat(call("DELETE", "/api/v1/clients/" + mine.get("id").asLong(), null).status()).isEqualTo(204);
            assertThatThrownBy(() -> whoami(client)).isInstanceOf(SQLException.class)
                    .hasMessageContaining("terminating connection due to administrator command");
        }
    }

    @Test
    void pauseAndResumeOverHttp() throws Exception {
        try (Connection client = connect("tenant_b")) {
            assertThat(call("POST", "/api/v1/pause", "{\"database\": \"tenant_b\"}").json().get("status").asText())
                    .isEqualTo("paused");
            var held = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return whoami(client);
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!call("GET", "/api/v1/clients", null).json().findValuesAsText("state").contains("waiting")) {
                assertThat(System.nanoTime()).as("the query to be held").isLessThan(deadline);
                Thread.sleep(20);
            }
            assertThat(held).isNotDone();
            assertThat(call("POST", "/api/v1/resume", "{\"database\": \"tenant_b\"}").status()).isEqualTo(200);
            assertThat(held.get(30, TimeUnit.SECONDS)).isEqualTo("tenant_b@shard2");
        }
    }

    @Test
    void metricsAreInPrometheusTextFormat() throws Exception {
        try (Connection client = connect("tenant_a")) {
            whoami(client);
        }
        assertThatThrownBy(() -> connect("not_routed")).isInstanceOf(SQLException.class); // an error of class 3D
        Answer metrics = call("GET", "/metrics", null);
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.response().headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
        assertThat(metrics.body()).contains("# TYPE pgstitch_transactions_seconds histogram")
                .contains("pgstitch_queries_seconds_count{shard=\"shard1\"}")
                .contains("pgstitch_clients{state=\"active\"}")
                .contains("pgstitch_servers{shard=\"shard1\",state=\"idle\"}")
                .contains("pgstitch_client_bytes_total{direction=\"in\",shard=\"shard1\"}")
                .contains("pgstitch_client_logins_total{method=\"trust\",outcome=")
                .contains("pgstitch_shard_up{shard=\"shard2\"}")
                .contains("pgstitch_pool_pinned_clients_total ")
                .contains("jvm_memory_used_bytes").contains("netty_allocator_memory_used")
                .contains("process_uptime_seconds").contains("pgstitch_client_errors_total{class=\"3D\"}")
                .doesNotContain("database=\"tenant_a\"");
    }

    /** The Grafana dashboard in the repository queries only metrics that /metrics has, whatever ran before. */
    @Test
    void theGrafanaDashboardUsesOnlyExportedMetrics() throws Exception {
        try (Connection client = connect("tenant_a")) { // a routed client's traffic meters; its server's login
            whoami(client);                               // tells the health check shard1 is up
        }
        assertThatThrownBy(() -> connect("not_routed")).isInstanceOf(SQLException.class);
        String metrics = call("GET", "/metrics", null).body();
        String dashboard = Files.readString(Path.of("..", "contrib", "grafana", "pgstitch-dashboard.json"));
        java.util.regex.Matcher names = java.util.regex.Pattern
                .compile("\\b(pgstitch|jvm|netty|process|system)_[a-z_]+").matcher(dashboard);
        java.util.Set<String> used = new java.util.TreeSet<>();
        while (names.find()) {
            used.add(names.group());
        }
        assertThat(used).hasSizeGreaterThan(10);
        for (String name : used) {
            assertThat(metrics).as("dashboard metric " + name).containsPattern("(?m)^" + name + "[{ ]");
        }
    }

    @Test
    void everyDocumentedOperationIsAnswered() throws Exception {
        JsonNode document = call("GET", "/api/v1/openapi.json", null).json();
        List<String> unanswered = new ArrayList<>();
        for (var path : (Iterable<java.util.Map.Entry<String, JsonNode>>) document.get("paths").properties()::iterator) {
            for (var operation : (Iterable<java.util.Map.Entry<String, JsonNode>>) path.getValue().properties()::iterator) {
                String method = operation.getKey().toUpperCase(Locale.ROOT);
                if (method.equals("PARAMETERS")) {
                    continue;
                }
                String concrete = path.getKey().replace("{database}", "openapi_probe").replace("{id}", "987654321");
                String body = method.equals("PUT") ? "{\"shard\": \"shard1\"}" : null;
                Answer answer = call(method, concrete, body);
                if (answer.status() == 405 || answer.status() == 404 && answer.body().contains("\"NOT_FOUND\"")) {
                    unanswered.add(method + " " + path.getKey() + " -> " + answer.status());
                }
                assertThat(operation.getValue().at("/responses/" + answer.status()).isMissingNode())
                        .as(method + " " + concrete + " answered " + answer.status() + ", which is documented")
                        .isFalse();
            }
        }
        assertThat(unanswered).isEmpty();
    }

    @Test
    void theApiRefusesANonLoopbackAddressWithoutAToken() {
        HttpEndpoint open = new HttpEndpoint("0.0.0.0", 0);
        assertThatThrownBy(() -> io.pgstitch.proxy.admin.http.AdminHttpServer.start(open,
                runtime.server().admin(), () -> "", null, null, null, () -> true, null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("admin.http.tokens are required");
    }

    /** A shard that refuses connections is found down (after a client's failed attempt) and named in the status. */
    @Test
    void aShardThatIsDownMakesTheStatusAWarningNamingIt(PostgresCluster cluster) throws Exception {
        int closedPort;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String yaml = TestProxy.config(cluster, "routes: { tenant_a: shard1, lost: gone }\n")
                .replace("shards:\n", "shards:\n  gone: { host: 127.0.0.1, port: " + closedPort + ", user: postgres }\n")
                + "admin: { http: { host: 127.0.0.1, port: 0 } }\n";
        try (TestProxy proxy = TestProxy.start(yaml)) {
            assertThatThrownBy(() -> proxy.connect("lost")).isInstanceOf(SQLException.class);
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + proxy.server().adminHttpAddress().getPort() + "/api/v1/status")).build();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            JsonNode status = JSON.readTree(HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body());
            while (!status.at("/status/code").asText().equals("WARNING") && System.nanoTime() < deadline) {
                Thread.sleep(50); // the failed connection is probed on the admin thread
                status = JSON.readTree(HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body());
            }
            assertThat(status.at("/status/code").asText()).as(status.toString()).isEqualTo("WARNING");
            assertThat(status.at("/status/message").asText()).startsWith("shard gone is down: 127.0.0.1:" + closedPort);
            assertThat(proxy.server().admin().views().shards().rows()).anySatisfy(row -> {
                assertThat(row[0]).isEqualTo("gone");
                assertThat(row[3]).isEqualTo("down");
            });
        }
    }

    /** admin.http.tls: HTTPS with the PostgreSQL port's certificate (here the self-signed one of tls: prefer). */
    @Test
    void httpsServesThePostgresPortsCertificate(PostgresCluster cluster) throws Exception {
        try (TestProxy secure = TestProxy.start(TestProxy.standardRoutes(cluster)
                + "admin: { http: { host: 127.0.0.1, port: 0, tls: true } }\n")) {
            javax.net.ssl.SSLContext trustAll = javax.net.ssl.SSLContext.getInstance("TLS");
            java.security.cert.X509Certificate[][] seen = new java.security.cert.X509Certificate[1][];
            trustAll.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
                @Override
                public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String type) {
                }

                @Override
                public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String type) {
                    seen[0] = chain;
                }

                @Override
                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            javax.net.ssl.SSLParameters noHostnameCheck = new javax.net.ssl.SSLParameters();
            noHostnameCheck.setEndpointIdentificationAlgorithm("");
            HttpClient https = HttpClient.newBuilder().sslContext(trustAll).sslParameters(noHostnameCheck).build();
            int port = secure.server().adminHttpAddress().getPort();
            HttpResponse<String> health = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port
                    + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(seen[0]).as("a certificate was presented").isNotEmpty();
            assertThatThrownBy(() -> HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/healthz")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()))
                    .as("plain HTTP is not answered").isInstanceOf(IOException.class);
        }
    }

    private static Connection connect(String database) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + runtime.server().port() + "/" + database,
                "postgres", "");
    }

    private static String whoami(Connection client) throws SQLException {
        try (ResultSet rs = client.createStatement().executeQuery("select tenant || '@' || shard from whoami")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
