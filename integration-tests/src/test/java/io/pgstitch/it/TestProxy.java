package io.pgstitch.it;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgstitch.conf.ConfigException;
import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.proxy.server.ProxyServer;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;

/**
 * pgstitch running in-process on an ephemeral port in front of the test cluster, configured from YAML
 * through the real loader.
 */
public final class TestProxy implements AutoCloseable {

    private final ProxyServer server;

    private TestProxy(ProxyServer server) {
        this.server = server;
    }

    public static TestProxy start(String yaml) throws ConfigException, InterruptedException {
        return new TestProxy(ProxyServer.start(parse(yaml), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)));
    }

    public static ProxyConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, Path.of("."), Map.<String, String>of()::get);
    }

    /**
     * shard1 and shard2 from the cluster; tenant_a on shard1, tenant_b on shard2's tb_db, {@code org_*} on
     * shard2, everything else rejected.
     */
    public static String standardRoutes(PostgresCluster cluster) {
        return config(cluster, """
                routes:
                  tenant_a: shard1
                  tenant_b: { shard: shard2, database: tb_db }
                  "org_*": shard2
                  postgres: shard1
                default_route: reject
                """);
    }

    /** listen on an ephemeral port, the cluster's shards, then {@code routing} (routes and default_route). */
    public static String config(PostgresCluster cluster, String routing) {
        return """
                listen: { host: 127.0.0.1, port: 0 }
                auth: { method: trust }
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres }
                  shard2: { host: 127.0.0.1, port: %d, user: postgres }
                """.formatted(cluster.shard(1).port(), cluster.shard(2).port()) + routing;
    }

    public ProxyServer server() {
        return server;
    }

    public int port() {
        return server.port();
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    public Connection connect(String database) throws SQLException {
        return connect(database, new Properties());
    }

    public Connection connect(String database, Properties properties) throws SQLException {
        Properties all = new Properties();
        all.setProperty("user", "postgres");
        all.setProperty("connectTimeout", "10");
        all.setProperty("socketTimeout", "120");
        all.putAll(properties);
        return DriverManager.getConnection(jdbcUrl(database), all);
    }

    @Override
    public void close() {
        server.close();
    }
}
