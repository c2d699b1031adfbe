package io.pgstitch.proxy.cli;

import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.conf.ConfigWatcher;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import io.pgstitch.proxy.server.ProxyServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code pgstitch demo}: two embedded PostgreSQL shards, a demo configuration and the proxy in front of
 * them, plus the psql command lines to try. Ctrl-C stops everything.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start two embedded PostgreSQL shards and pgstitch in front of them.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "6432", description = "proxy port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--pg-bin", paramLabel = "DIR",
            description = "use the PostgreSQL server binaries in DIR instead of the embedded ones")
    Path pgBin;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "pgstitch-demo",
            description = "where the demo configuration is written (default: ${DEFAULT-VALUE})")
    Path dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PostgresBinaries binaries = pgBin == null ? PostgresBinaries.resolve() : PostgresBinaries.at(pgBin);
        out.println("starting two PostgreSQL " + binaries.version() + " shards...");
        out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        try (LocalPostgres shard1 = startShard(binaries, "shard1");
             LocalPostgres shard2 = startShard(binaries, "shard2")) {
            shard1.createDatabase("tenant_a");
            shard1.execute("tenant_a", marker("tenant_a", "shard1"));
            shard2.createDatabase("tb_db");
            shard2.execute("tb_db", marker("tenant_b", "shard2"));
            shard2.createDatabase("org_acme");
            shard2.execute("org_acme", marker("org_acme", "shard2"));

            Files.createDirectories(dir);
            Path configFile = dir.resolve("pgstitch.yaml");
            Files.writeString(configFile, config(shard1.port(), shard2.port()));
            ProxyConfig config = ConfigLoader.load(configFile);
            try (ProxyServer server = ProxyServer.start(config);
                 ConfigWatcher watcher = new ConfigWatcher(configFile, config, server::apply)) {
                watcher.start();
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    server.close();
                    shard1.close();
                    shard2.close();
                    stopped.countDown();
                }, "pgstitch-demo-shutdown"));
                printTryThis(out, configFile);
                stopped.await();
            }
        }
        return 0;
    }

    private static LocalPostgres startShard(PostgresBinaries binaries, String name) throws Exception {
        return LocalPostgres.builder(binaries).name(name).port(0).start();
    }

    private static String marker(String tenant, String shard) {
        return "CREATE TABLE whoami AS SELECT '" + tenant + "'::text AS tenant, '" + shard + "'::text AS shard";
    }

    private String config(int shard1Port, int shard2Port) {
        return """
                # Written by `pgstitch demo`. Edit the routes while the demo runs: they reload on save.
                listen:
                  host: 127.0.0.1
                  port: %d
                auth:
                  method: trust
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres }
                  shard2: { host: 127.0.0.1, port: %d, user: postgres }
                routes:
                  tenant_a: shard1
                  tenant_b: { shard: shard2, database: tb_db }
                  "org_*": shard2
                default_route: reject
                rpc:
                  functions: ["iasql_*"]
                """.formatted(port, shard1Port, shard2Port);
    }

    private void printTryThis(PrintWriter out, Path configFile) {
        String base = "psql \"host=127.0.0.1 port=" + port + " user=postgres dbname=";
        out.printf("""

                pgstitch is listening on 127.0.0.1:%d (config: %s). Try:

                  %stenant_a" -c 'select * from whoami' -c 'select current_database(), current_setting($$port$$)'
                  %stenant_b" -c 'select * from whoami' -c 'select current_database(), current_setting($$port$$)'
                  %sorg_acme" -c 'select * from whoami'
                  %snobody_routes_me" -c 'select 1'     # refused: not routed

                Press Ctrl-C to stop.
                """, port, configFile.toAbsolutePath(), base, base, base, base);
        out.flush();
    }
}
