package io.pgstitch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgstitch.it.support.Pgbench;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real Prometheus (Debian package prometheus, which .ci/run installs) scrapes pgstitch's /metrics every second
 * while pgbench runs through pgstitch; PromQL through Prometheus' HTTP API then sees every transaction pgbench
 * made. Skipped, saying why, where prometheus or pgbench is missing.
 */
@ExtendWith(PostgresExtension.class)
class PrometheusIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void prometheusSeesPgbenchsTransactions(PostgresCluster cluster, @TempDir Path dir) throws Exception {
        Pgbench.assumeAvailable();
        Path prometheus = binary("prometheus");
        Assumptions.assumeTrue(prometheus != null, "prometheus is not installed (apt-get install prometheus): "
                + "skipping the scrape test");
        Tenants.create(cluster.shard(2), "org_metrics", "org_metrics", "shard2");
        try (TestProxy proxy = TestProxy.start(TestProxy.standardRoutes(cluster)
                + "admin: { http: { host: 127.0.0.1, port: 0 } }\n")) {
            int metricsPort = proxy.server().adminHttpAddress().getPort();
            int prometheusPort = freePort();
            Files.writeString(dir.resolve("prometheus.yml"), """
                    global: { scrape_interval: 1s, evaluation_interval: 1s }
                    scrape_configs:
                      - job_name: pgstitch
                        static_configs: [ { targets: ["127.0.0.1:%d"] } ]
                    """.formatted(metricsPort));
            Process server = new ProcessBuilder(prometheus.toString(),
                    "--config.file=" + dir.resolve("prometheus.yml"), "--storage.tsdb.path=" + dir.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + prometheusPort)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            try {
                String api = "http://127.0.0.1:" + prometheusPort;
                awaitValue(api, "up{job=\"pgstitch\"}", 1, server, dir);

                Pgbench pgbench = Pgbench.at("127.0.0.1", proxy.port()).user("postgres").database("org_metrics");
                var init = pgbench.run("-i", "-s", "1", "-q");
                assertThat(init.exitCode()).as(init.stderr()).isZero();
                var run = pgbench.run("-S", "-c", "2", "-j", "2", "-T", "4");
                assertThat(run.exitCode()).as(run.stderr()).isZero();
                long processed = Pgbench.Report.of(run).processed();
                assertThat(processed).isPositive();

                // every transaction of the run (and pgbench -i's few) is counted once Prometheus scrapes again
                awaitValue(api, "sum(pgstitch_transactions_seconds_count{shard=\"shard2\"})", processed, server, dir);
                double p99 = query(api, "histogram_quantile(0.99, sum by (le) "
                        + "(rate(pgstitch_queries_seconds_bucket{shard=\"shard2\"}[1m])))");
                assertThat(p99).as("a 99th percentile of query latency").isPositive().isLessThan(10);
                assertThat(query(api, "sum(pgstitch_client_bytes_total{direction=\"out\"})")).isPositive();
            } finally {
                server.destroy();
                server.waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    /** Polls {@code promql} until its value reaches {@code atLeast}, for up to 60 s. */
    private static void awaitValue(String api, String promql, double atLeast, Process server, Path dir)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        double value = Double.NaN;
        while (System.nanoTime() < deadline) {
            assertThat(server.isAlive()).as("prometheus runs: %s", log(dir)).isTrue();
            try {
                value = query(api, promql);
                if (value >= atLeast) {
                    return;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError(promql + " stayed at " + value + ", expected at least " + atLeast + "; "
                + log(dir));
    }

    /** The value of an instant query's first sample; NaN when it has none. */
    private static double query(String api, String promql) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8))).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode result = JSON.readTree(response.body()).at("/data/result");
        return result.isArray() && !result.isEmpty() ? result.get(0).at("/value/1").asDouble(Double.NaN) : Double.NaN;
    }

    private static String log(Path dir) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("prometheus.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (java.io.IOException e) {
            return "(no log)";
        }
    }

    private static Path binary(String name) {
        for (String directory : System.getenv("PATH").split(":")) {
            Path candidate = Path.of(directory, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
