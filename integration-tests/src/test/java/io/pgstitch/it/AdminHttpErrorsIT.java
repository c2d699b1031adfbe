package io.pgstitch.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.proxy.server.ProxyRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static io.pgstitch.it.AdminApi.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin API's error objects not covered by {@link AdminHttpIT}, with Java's HttpClient (a raw socket for what
 * HttpClient will not send): a rejected reload with its problems, no routes file, pause conflicts, a body over the
 * limit, a malformed request; and a reload that would leave the API's non-loopback listener without a token.
 */
@ExtendWith(PostgresExtension.class)
class AdminHttpErrorsIT {

    private static final String TOKEN = "errors-t0ken";
    private static final String ADMIN = "  http: { host: 0.0.0.0, port: 0, tokens: [\"" + TOKEN + "\"] }\n";

    @TempDir
    static Path dir;
    static Path file;
    static String yaml;
    static ProxyRuntime runtime;
    static AdminApi api;

    /** The API on every address (so a token is required), without admin.routes_file. */
    @BeforeAll
    static void start(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        file = dir.resolve("pgstitch.yaml");
        yaml = TestProxy.standardRoutes(cluster) + "admin:\n" + ADMIN;
        Files.writeString(file, yaml);
        runtime = ProxyRuntime.start(file, ConfigLoader.load(file), false,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        api = new AdminApi(runtime.server().adminHttpAddress().getPort(), TOKEN);
    }

    @AfterAll
    static void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    /** Each test may break the file; the next one starts from the original, in force. */
    @AfterEach
    void restoreTheFile() throws Exception {
        Files.writeString(file, yaml);
        assertThat(api.call("POST", "/api/v1/reload", null).status()).isEqualTo(200);
    }

    @Test
    void aReloadCannotLeaveTheNonLoopbackListenerWithoutATokenEvenIfTheFileSaysLoopback() throws Exception {
        Files.writeString(file, yaml.replace(ADMIN, "  http: { host: 127.0.0.1, port: 0 }\n"));
        JsonNode refused = assertError(api.call("POST", "/api/v1/reload", null), 422, "CONFIG_REJECTED");
        assertThat(refused.get("problems").get(0).asText()).startsWith("admin.http.tokens: the admin API listens on "
                + "0.0.0.0:" + runtime.server().adminHttpAddress().getPort() + " since start");
        assertError(api.call("GET", "/api/v1/status", null, null), 401, "UNAUTHORIZED");
        assertThat(api.call("GET", "/api/v1/status", null).json().at("/config/last_reload_error").asText())
                .contains("admin.http.tokens");
    }

    @Test
    void aRejectedReloadNamesEveryProblemAndKeepsTheRunningConfiguration() throws Exception {
        Files.writeString(file, yaml.replace("tenant_a: shard1", "tenant_a: shard9")
                .replace("postgres: shard1", "postgres: { shard: shard1, colour: red }"));
        JsonNode rejected = assertError(api.call("POST", "/api/v1/reload", null), 422, "CONFIG_REJECTED");
        assertThat(rejected.get("message").asText()).contains("rejected; the running configuration stays in force");
        assertThat(rejected.get("problems")).extracting(JsonNode::asText).containsExactlyInAnyOrder(
                "routes.tenant_a: unknown shard \"shard9\" (shards: shard1, shard2)",
                "routes.postgres.colour: unknown setting (expected one of: shard, database, user, password, pool)");
        assertThat(api.call("GET", "/api/v1/routes/tenant_a", null).json().get("shard").asText()).isEqualTo("shard1");
    }

    @Test
    void routesCannotBeChangedWithoutARoutesFile() throws Exception {
        assertError(api.call("PUT", "/api/v1/routes/tenant_x", "{\"shard\": \"shard1\"}"), 409, "NO_ROUTES_FILE");
        assertError(api.call("DELETE", "/api/v1/routes/tenant_x", null), 409, "NO_ROUTES_FILE");
    }

    @Test
    void resumingWhatIsNotPausedAloneIsAConflict() throws Exception {
        assertError(api.call("POST", "/api/v1/resume", null), 409, "NOT_PAUSED");
        assertError(api.call("POST", "/api/v1/resume", "{\"database\": \"tenant_a\"}"), 409, "NOT_PAUSED");
        assertThat(api.call("POST", "/api/v1/pause", null).status()).isEqualTo(200);
        try {
            JsonNode all = assertError(api.call("POST", "/api/v1/resume", "{\"database\": \"tenant_a\"}"), 409,
                    "ALL_PAUSED");
            assertThat(all.get("hint").asText()).isEqualTo("RESUME without a database resumes all.");
        } finally {
            assertThat(api.call("POST", "/api/v1/resume", null).status()).isEqualTo(200);
        }
    }

    @Test
    void aBodyOverTheLimitIsAnErrorObjectNamingTheLimit() throws Exception {
        String huge = "{\"shard\": \"" + "x".repeat(70_000) + "\"}";
        JsonNode tooLarge = assertError(api.call("PUT", "/api/v1/routes/tenant_x", huge), 413, "REQUEST_TOO_LARGE");
        assertThat(tooLarge.get("message").asText()).isEqualTo("the request body of " + huge.length()
                + " bytes is over the admin API's limit of 65536 bytes");
        assertThat(api.call("GET", "/healthz", null).status()).as("the API goes on").isEqualTo(200);
        // JDK 17's HttpClient waits forever when Expect: 100-continue gets a final answer, hence the raw socket
        String expecting = raw("PUT /api/v1/routes/tenant_x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Expect: 100-continue\r\nContent-Length: 70000\r\n\r\n");
        assertThat(expecting).startsWith("HTTP/1.1 413 Request Entity Too Large\r\n")
                .contains("\"REQUEST_TOO_LARGE\"").contains("70000 bytes is over the admin API's limit");
    }

    @Test
    void aMalformedRequestIsABadRequestObject() throws Exception {
        String answer = raw("GET /api/v1/status NOT-HTTP\r\nHost: x\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 400 Bad Request\r\n");
        JsonNode error = AdminApi.JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4));
        assertThat(error.get("code").asText()).isEqualTo("BAD_REQUEST");
        assertThat(error.get("message").asText()).startsWith("the request is not valid HTTP/1.1: ");
        assertThat(error.get("hint").asText()).isNotBlank();

        String expectation = raw("POST /api/v1/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                + "Expect: a-teapot\r\nContent-Length: 2\r\n\r\n{}");
        assertThat(expectation).startsWith("HTTP/1.1 417 Expectation Failed\r\n").contains("\"EXPECTATION_FAILED\"");
    }

    /** Sends {@code request} on a new connection and reads until the server closes it. */
    private static String raw(String request) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", runtime.server().adminHttpAddress().getPort())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
