package io.pgstitch.conf;

/** {@code shards.NAME.pool}: the pooling mode and how many backend connections it may open. */
public record PoolConfig(PoolMode mode, int size) {
}
