package io.pgstitch.conf;

/**
 * Where one database ID goes.
 *
 * @param matchedBy how it was decided, for logs and check-config: {@code exact}, {@code pattern "org_*"},
 *                  {@code default}, {@code hash}
 */
public record Route(String databaseId, ShardConfig shard, String backendDatabase, String matchedBy) {
}
