package io.pgstitch.conf;

/**
 * Where one database ID goes, and whom its clients reach the shard as.
 *
 * @param matchedBy how it was decided, for logs and check-config: {@code exact}, {@code pattern "org_*"},
 *                  {@code default}, {@code hash}
 * @param identity  the route's forced user when it has one, else the shard's ({@link ShardConfig#identity()}):
 *                  {@code identity.userFor(clientUser)} is the role to log in to the shard as
 * @param pool      the shard's pool settings, with the route's own mode and size where it has them
 */
public record Route(String databaseId, ShardConfig shard, String backendDatabase, String matchedBy,
                    BackendIdentity identity, PoolConfig pool) {

    /** A route without a forced user or pool settings of its own: the shard's apply. */
    public Route(String databaseId, ShardConfig shard, String backendDatabase, String matchedBy) {
        this(databaseId, shard, backendDatabase, matchedBy, shard.identity(), shard.pool());
    }

    /** A route without pool settings of its own. */
    public Route(String databaseId, ShardConfig shard, String backendDatabase, String matchedBy,
                 BackendIdentity identity) {
        this(databaseId, shard, backendDatabase, matchedBy, identity, shard.pool());
    }
}
