package io.pgstitch.it.support;

import io.pgstitch.proxy.postgres.PostgresServer;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** PostgreSQL in Docker containers, for machines with a Docker engine ({@code -Dpg.backend=testcontainers}). */
final class TestcontainersPostgres implements PostgresServer {

    private static final String IMAGE = "postgres:18";

    private final PostgreSQLContainer<?> container;

    private TestcontainersPostgres(PostgreSQLContainer<?> container) {
        this.container = container;
    }

    static PostgresCluster cluster(int shards) {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            throw new IllegalStateException("-Dpg.backend=testcontainers needs a Docker engine, and none is reachable");
        }
        List<PostgresServer> servers = new ArrayList<>();
        try {
            for (int i = 0; i < shards; i++) {
                PostgreSQLContainer<?> container = new PostgreSQLContainer<>(IMAGE).withUsername("postgres")
                        .withPassword("postgres");
                servers.add(new TestcontainersPostgres(container));
                container.start();
            }
        } catch (RuntimeException e) {
            servers.forEach(PostgresServer::close);
            throw e;
        }
        return new PostgresCluster(servers, "testcontainers " + IMAGE);
    }

    @Override
    public String host() {
        return container.getHost();
    }

    @Override
    public int port() {
        return container.getMappedPort(PostgreSQLContainer.POSTGRESQL_PORT);
    }

    @Override
    public void execute(String database, String sql) {
        try (Connection connection = DriverManager.getConnection(jdbcUrl(database), "postgres", "postgres");
             Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed on " + database + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        container.stop();
    }
}
