package io.pgstitch.it;

import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import io.pgstitch.proxy.demo.Demo;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** `pgstitch demo`: every command line it prints works exactly as printed, in a real shell. */
class DemoIT {

    @Test
    void thePrintedCommandsWorkAsPrinted(@TempDir Path dir) throws Exception {
        Psql.assumeAvailable();
        try (Demo demo = Demo.start(PostgresBinaries.resolve(), 0, dir)) {
            List<String> commands = demo.tryThis();
            assertThat(commands).hasSize(5);
            assertThat(shell(commands.get(0)).stdout()).contains("tenant_a | shard1").contains(" tenant_a ");
            assertThat(shell(commands.get(1)).stdout()).contains("tenant_b | shard2").contains(" tb_db ");
            assertThat(shell(commands.get(2)).stdout()).contains("org_acme | shard2");
            List<String> pids = java.util.regex.Pattern.compile("(session|rpc connection), pid \\d+")
                    .matcher(shell(commands.get(3)).stdout()).results().map(match -> match.group()).toList();
            assertThat(pids).hasSize(3);
            assertThat(pids.get(0)).startsWith("session").isEqualTo(pids.get(2));
            assertThat(pids.get(1)).startsWith("rpc connection").isNotEqualTo(pids.get(0).replace("session", "rpc"));
            ProcessResult refused = shell(commands.get(4));
            assertThat(refused.exitCode()).isNotZero();
            assertThat(refused.stderr()).contains("database \"nobody_routes_me\" is not routed by pgstitch");
        }
    }

    private static ProcessResult shell(String commandLine) throws Exception {
        Process process = new ProcessBuilder("sh", "-c", commandLine).start();
        process.getOutputStream().close();
        String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        if (!commandLine.contains("refused")) {
            assertThat(process.exitValue()).as("%s%nstderr: %s", commandLine, stderr).isZero();
        }
        return new ProcessResult(process.exitValue(), stdout, stderr);
    }
}
