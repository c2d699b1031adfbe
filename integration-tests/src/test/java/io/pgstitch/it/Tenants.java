package io.pgstitch.it;

import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.proxy.postgres.PostgresServer;

import java.util.HashSet;
import java.util.Set;

/**
 * The tenant databases of {@link TestProxy#standardRoutes}, each with a {@code whoami} marker row naming
 * the tenant and shard, so a test can tell where a connection really landed. Created once per cluster.
 */
public final class Tenants {

    private static final Set<String> created = new HashSet<>();

    private Tenants() {
    }

    public static synchronized void ensure(PostgresCluster cluster) {
        create(cluster.shard(1), "tenant_a", "tenant_a", "shard1");
        create(cluster.shard(2), "tb_db", "tenant_b", "shard2");
        create(cluster.shard(2), "org_acme", "org_acme", "shard2");
    }

    /** Creates {@code database} on {@code shard} with a marker row, unless this JVM did already. */
    public static synchronized void create(PostgresServer shard, String database, String tenant, String shardName) {
        if (!created.add(shard.port() + "/" + database)) {
            return;
        }
        shard.createDatabase(database);
        shard.execute(database, "CREATE TABLE whoami AS SELECT '" + tenant + "'::text AS tenant, '"
                + shardName + "'::text AS shard");
    }
}
