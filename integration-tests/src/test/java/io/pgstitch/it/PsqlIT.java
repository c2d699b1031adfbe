package io.pgstitch.it;

import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The psql binary through pgstitch: multi-statement -c, -f with dollar quotes, \copy both ways, \d. */
class PsqlIT extends ProxiedTest {

    @BeforeAll
    static void needsPsql() {
        Psql.assumeAvailable();
    }

    private static Psql psql(String database) {
        return Psql.at("127.0.0.1", proxy.port()).user("postgres").database(database);
    }

    private static ProcessResult ok(ProcessResult result) {
        assertThat(result.exitCode()).as("psql exit code; stderr: %s", result.stderr()).isZero();
        return result;
    }

    @Test
    void severalStatementsInOneDashCShowEveryResultInOrder() {
        ProcessResult result = ok(psql("tenant_a").run("-At", "-c",
                "select 'first'; select 'second', 2; select tenant from whoami"));
        assertThat(result.stdout().lines()).containsExactly("first", "second|2", "tenant_a");
    }

    @Test
    void aFileWithADollarQuotedFunction(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("function.sql");
        Files.writeString(script, """
                create or replace function pg_temp.shout(t text) returns text language plpgsql as $body$
                begin
                  -- a semicolon; and a 'quote' inside the body
                  return upper(t) || '!';
                end;
                $body$;
                select pg_temp.shout('hello; world');
                """);
        ProcessResult result = ok(psql("tenant_a").run("-At", "-v", "ON_ERROR_STOP=1", "-f", script.toString()));
        assertThat(result.stdout().lines()).contains("HELLO; WORLD!");
    }

    @Test
    void copyOneHundredThousandRowsInAndOut(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("in.csv");
        Path out = dir.resolve("out.csv");
        Files.write(in, IntStream.rangeClosed(1, 100_000).mapToObj(i -> i + ",row " + i)
                .collect(Collectors.toList()));
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        ok(psql("org_acme").run("-c", "drop table if exists copied; create table copied (id int, label text)"));
        ProcessResult copyIn = ok(psql("org_acme").run("-c", "\\copy copied from '" + in + "' with (format csv)"));
        assertThat(copyIn.stdout()).contains("COPY 100000");
        ProcessResult copyOut = ok(psql("org_acme").run("-c",
                "\\copy (select * from copied order by id) to '" + out + "' with (format csv)"));
        assertThat(copyOut.stdout()).contains("COPY 100000");
        assertThat(Files.readAllLines(out)).isEqualTo(Files.readAllLines(in));
        // and it really is on shard2, seen directly
        ProcessResult direct = ok(Psql.at("127.0.0.1", cluster.shard(2).port()).user("postgres").database("org_acme")
                .run("-At", "-c", "select count(*), sum(id) from copied"));
        assertThat(direct.stdout().trim()).isEqualTo("100000|5000050000");
    }

    @Test
    void describeCommands() {
        ProcessResult tables = ok(psql("tenant_b").run("-c", "\\d"));
        assertThat(tables.stdout()).contains("whoami").contains("table");
        ProcessResult columns = ok(psql("tenant_b").run("-c", "\\d whoami"));
        assertThat(columns.stdout()).contains("tenant").contains("shard").contains("text");
    }

    @Test
    void anErrorInTheMiddleLooksExactlyAsItDoesDirectly() {
        String batch = "select 1; select 1/0; select 3";
        ProcessResult viaProxy = psql("tenant_a").run("-At", "-c", batch);
        ProcessResult direct = Psql.at("127.0.0.1", cluster.shard(1).port()).user("postgres").database("tenant_a")
                .run("-At", "-c", batch);
        assertThat(viaProxy.exitCode()).isEqualTo(direct.exitCode()).isNotZero();
        assertThat(viaProxy.stdout()).isEqualTo(direct.stdout());
        assertThat(viaProxy.stderr()).isEqualTo(direct.stderr()).contains("division by zero");
    }

    @Test
    void ctrlCInPsqlCancelsTheRunningQuery() throws Exception {
        Process psql = new ProcessBuilder("psql", "-X", "-h", "127.0.0.1", "-p", Integer.toString(proxy.port()),
                "-U", "postgres", "-d", "tenant_a", "-c", "select pg_sleep(60)").start();
        try (java.sql.Connection direct = java.sql.DriverManager.getConnection(
                cluster.shard(1).jdbcUrl("tenant_a"), "postgres", "")) {
            boolean running = false;
            for (int i = 0; i < 400 && !running; i++) {
                try (java.sql.ResultSet rs = direct.createStatement().executeQuery("select count(*) from "
                        + "pg_stat_activity where query = 'select pg_sleep(60)' and state = 'active'")) {
                    rs.next();
                    running = rs.getInt(1) > 0;
                }
                Thread.sleep(25);
            }
            assertThat(running).as("the query started").isTrue();
        }
        new ProcessBuilder("kill", "-INT", Long.toString(psql.pid())).start().waitFor();
        assertThat(psql.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("psql returned").isTrue();
        String stderr = new String(psql.getErrorStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(stderr).contains("canceling statement due to user request");
        assertThat(psql.exitValue()).isEqualTo(1);
    }
}
