package io.pgstitch.proxy.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CheckConfigCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    @Test
    void aValidFilePrintsTheEffectiveRoutingTable(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ok.yaml");
        Files.writeString(dir.resolve("users.txt"), "\"alice\" \"s3cret\"\n");
        Files.writeString(file, """
                auth:
                  method: scram-sha-256
                  users_file: users.txt
                  rules: [ { database: "tenant_*", address: 10.0.0.0/8, method: md5 }, { user: bob, method: reject } ]
                shards:
                  shard1: { host: 10.0.0.1, user: postgres }
                  shard2: { host: 10.0.0.2, port: 5433, user: app }
                routes:
                  tenant_a: shard1
                  tenant_b: { shard: shard2, database: tb_db }
                  "org_*": shard2
                default_route: { hash: [shard1, shard2] }
                rpc: { functions: ["iasql_*"] }
                """);
        assertThat(run("check-config", "--config", file.toString())).isZero();
        assertThat(out.toString())
                .contains(file + ": OK")
                .contains("auth: scram-sha-256 when no rule matches, users file " + dir.resolve("users.txt"))
                .contains("database tenant_*, user all, address 10.0.0.0/8, tls any -> md5")
                .contains("database all, user bob, address all, tls any -> reject")
                .contains("shard2           10.0.0.2:5433 as forced user \"app\", pool session/20")
                .contains("tenant_b -> shard2 (10.0.0.2:5433) database tb_db")
                .contains("org_*    -> shard2 (10.0.0.2:5433) database (same as database ID) as forced user \"app\" "
                        + "(from shards.shard2.user), session pooling (20)  [pattern]")
                .contains("(default) -> rendezvous hash over shard1, shard2")
                .doesNotContain("rpc.functions:");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void eachRouteSaysWhomItsClientsReachTheShardAs(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("identity.yaml");
        Files.writeString(file, """
                auth:
                  method: scram-sha-256
                  auth_query: { query: "SELECT usename, passwd FROM pgstitch.lookup($1)", cache_ttl: 90s }
                shards:
                  shard1: { host: 10.0.0.1, admin_user: pgstitch, admin_password: lookup-secret }
                  shard2: { host: 10.0.0.2, user: app, password: app-secret, admin_user: pgstitch }
                routes:
                  tenant_a: shard1
                  tenant_b: { shard: shard1, database: tb_db, user: app_b, password: app-b-secret }
                  tenant_c: shard2
                default_route: shard1
                """);
        assertThat(run("check-config", "--config", file.toString())).isZero();
        assertThat(out.toString())
                .contains("users not in the users file: auth_query on the routed shard, answers cached 90s, at most "
                        + "10000:\n    SELECT usename, passwd FROM pgstitch.lookup($1)")
                .contains("shard1           10.0.0.1:5432 as the client's user, admin_user \"pgstitch\", pool "
                        + "session/20")
                .contains("shard2           10.0.0.2:5432 as forced user \"app\", admin_user \"pgstitch\"")
                .contains("tenant_a -> shard1 (10.0.0.1:5432) database tenant_a as the client's user")
                .contains("tenant_b -> shard1 (10.0.0.1:5432) database tb_db as forced user \"app_b\" "
                        + "(from routes.tenant_b.user)")
                .contains("tenant_c -> shard2 (10.0.0.2:5432) database tenant_c as forced user \"app\" "
                        + "(from shards.shard2.user)")
                .contains("(default) -> shard1, database = database ID, as the client's user")
                .doesNotContain("secret");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void authQueryWithoutALookupRoleNamesTheShard(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("lookup.yaml");
        Files.writeString(file, """
                auth: { method: md5, auth_query: {} }
                shards: { shard1: {}, shard2: { admin_user: pgstitch } }
                routes: { tenant_a: shard1, tenant_b: shard2 }
                """);
        assertThat(run("check-config", "--config", file.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("1 problem")
                .contains("shards.shard1.admin_user: required because auth.auth_query is set");
    }

    @Test
    void everyProblemIsPrintedWithItsPathAndTheExitCodeIsOne(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, """
                listen: { port: 70000 }
                shards: { shard1: { user: u } }
                routes:
                  tenant_b: { shard: shard9 }
                """);
        assertThat(run("check-config", "--config", file.toString())).isEqualTo(1);
        assertThat(err.toString())
                .contains("2 problems")
                .contains("listen.port: must be between 0 and 65535, got 70000")
                .contains("routes.tenant_b.shard: unknown shard \"shard9\"");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void aMissingFileIsAnError(@TempDir Path dir) {
        assertThat(run("check-config", "--config", dir.resolve("nope.yaml").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("nope.yaml").contains("cannot be read");
    }

    @Test
    void noCommandIsAUsageError() {
        assertThat(run()).isEqualTo(2);
        assertThat(err.toString()).contains("a command is required");
    }

    @Test
    void poolModesArePrintedPerRouteWithTheRoutesOwnOverride(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("modes.yaml");
        Files.writeString(dir.resolve("users.txt"), "\"alice\" \"s3cret\"\n");
        Files.writeString(file, """
                auth: { method: scram-sha-256, users_file: users.txt }
                shards: { shard1: { tls: disable, pool: { mode: transaction, size: 8 } } }
                routes:
                  a: shard1
                  b: { shard: shard1, pool: { mode: statement } }
                  c: { shard: shard1, pool: { mode: session, size: 3 } }
                """);
        assertThat(run("check-config", "--config", file.toString())).as(err.toString()).isZero();
        assertThat(out.toString())
                .containsPattern("a +-> shard1 .*transaction pooling \\(8\\)")
                .containsPattern("b +-> shard1 .*statement pooling \\(8\\)")
                .containsPattern("c +-> shard1 .*session pooling \\(3\\)");
    }
}
