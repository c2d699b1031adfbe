package io.pgstitch.it;

import io.pgstitch.it.support.Pgbench;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;

/** pgbench through pgstitch: initialise, then select-only runs in all three query modes with no failure. */
@ExtendWith(PostgresExtension.class)
class PgbenchIT {

    private static TestProxy proxy;

    @BeforeAll
    static void start(PostgresCluster cluster) throws Exception {
        Pgbench.assumeAvailable();
        Tenants.create(cluster.shard(2), "org_bench", "org_bench", "shard2");
        proxy = TestProxy.start(TestProxy.standardRoutes(cluster));
        var init = Pgbench.at("127.0.0.1", proxy.port()).user("postgres").database("org_bench")
                .run("-i", "-s", "1", "-q");
        assertThat(init.exitCode()).as("pgbench -i; stderr: %s", init.stderr()).isZero();
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @ParameterizedTest(name = "-M {0}")
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void selectOnlyRunsWithoutFailures(String mode) {
        var result = Pgbench.at("127.0.0.1", proxy.port()).user("postgres").database("org_bench")
                .run("-S", "-M", mode, "-c", "4", "-j", "2", "-T", "3");
        assertThat(result.exitCode()).as("pgbench; stderr: %s", result.stderr()).isZero();
        Pgbench.Report report = Pgbench.Report.of(result);
        assertThat(report.failed()).as("failed transactions; output: %s", result.stdout()).isZero();
        assertThat(report.processed()).isPositive();
    }
}
