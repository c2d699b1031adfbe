package io.pgstitch.proxy.demo;

import io.pgstitch.conf.ConfigException;
import io.pgstitch.conf.ConfigLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import io.pgstitch.proxy.server.ProxyRuntime;
import io.pgstitch.proxy.server.ProxyServer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo: two local PostgreSQL shards with a tenant database or two each, a configuration file routing to
 * them, and the proxy in front, watching that file. {@link #tryThis()} lists psql command lines that work
 * exactly as printed.
 */
public final class Demo implements AutoCloseable {

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Path configFile;
    private ProxyServer server;

    private Demo(Path dir) {
        this.configFile = dir.resolve("pgstitch.yaml").toAbsolutePath();
    }

    /**
     * @param port the proxy's port; 0 picks a free one
     * @param dir  where the configuration file is written
     */
    public static Demo start(PostgresBinaries binaries, int port, Path dir)
            throws IOException, InterruptedException, ConfigException {
        Demo demo = new Demo(dir);
        try {
            demo.startAll(binaries, port, dir);
        } catch (IOException | InterruptedException | ConfigException | RuntimeException e) {
            demo.close();
            throw e;
        }
        return demo;
    }

    private void startAll(PostgresBinaries binaries, int port, Path dir)
            throws IOException, InterruptedException, ConfigException {
        LocalPostgres shard1 = track(LocalPostgres.builder(binaries).name("shard1").start());
        LocalPostgres shard2 = track(LocalPostgres.builder(binaries).name("shard2").start());
        tenant(shard1, "tenant_a", "tenant_a", "shard1");
        tenant(shard2, "tb_db", "tenant_b", "shard2");
        tenant(shard2, "org_acme", "org_acme", "shard2");
        Files.createDirectories(dir);
        Files.writeString(configFile, config(port, shard1.port(), shard2.port()));
        ProxyConfig config = ConfigLoader.load(configFile);
        server = track(ProxyRuntime.start(configFile, config, true,
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))).server();
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.add(0, resource); // closed in reverse order of start
        return resource;
    }

    private static void tenant(LocalPostgres shard, String database, String tenant, String shardName) {
        shard.createDatabase(database);
        shard.execute(database, "CREATE TABLE whoami AS SELECT '" + tenant + "'::text AS tenant, '" + shardName
                + "'::text AS shard");
        // RPC functions (rpc.functions: iasql_*): pgstitch runs their calls on connections of their own
        shard.execute(database, "CREATE FUNCTION iasql_backend() RETURNS text LANGUAGE sql"
                + " AS $$ SELECT 'rpc connection, pid ' || pg_backend_pid() $$;"
                + " CREATE FUNCTION iasql_noop() RETURNS text LANGUAGE sql AS $$ SELECT 'ok' $$");
    }

    private static String config(int port, int shard1Port, int shard2Port) {
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

    public int port() {
        return server.port();
    }

    public Path configFile() {
        return configFile;
    }

    /** psql command lines to paste into a shell; the last one is refused on purpose. */
    public List<String> tryThis() {
        String psql = "psql \"host=127.0.0.1 port=" + port() + " user=postgres dbname=";
        String where = " -c 'select current_database(), current_setting($$port$$)'";
        return List.of(
                psql + "tenant_a\" -c 'select * from whoami'" + where,
                psql + "tenant_b\" -c 'select * from whoami'" + where,
                psql + "org_acme\" -c 'select * from whoami'",
                psql + "tenant_a\" -c 'select $$session, pid $$ || pg_backend_pid();"
                        + " select iasql_backend(); select $$session, pid $$ || pg_backend_pid()'   # stitched",
                psql + "nobody_routes_me\" -c 'select 1'     # refused: not routed");
    }

    @Override
    public void close() {
        for (AutoCloseable resource : resources) {
            try {
                resource.close();
            } catch (Exception e) {
                System.err.println("demo: closing " + resource + " failed: " + e);
            }
        }
        resources.clear();
    }
}
