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

import java.nio.file.Files;
import java.nio.file.Path;

import static io.pgstitch.it.AdminApi.assertError;
import static org.assertj.core.api.Assertions.assertThat;

/** A reload that would leave the admin API's non-loopback listener without a token. */
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
}
