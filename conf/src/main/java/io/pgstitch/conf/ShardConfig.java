package io.pgstitch.conf;

import java.nio.file.Path;

/**
 * {@code shards.NAME}: one PostgreSQL instance and the credentials pgstitch logs in to it with.
 *
 * @param password null when the shard asks for none (trust)
 * @param tlsCa    PEM file of the CA(s) the shard's certificate must chain to ({@code tls: verify-ca|verify-full});
 *                 null otherwise
 */
public record ShardConfig(String name, String host, int port, String user, String password, ShardTlsMode tls,
                          Path tlsCa, PoolConfig pool) {

    /** A shard without a CA file. */
    public ShardConfig(String name, String host, int port, String user, String password, ShardTlsMode tls,
                       PoolConfig pool) {
        this(name, host, port, user, password, tls, null, pool);
    }

    @Override
    public String toString() {
        // never print the password
        return "ShardConfig[" + name + " " + host + ":" + port + " user " + user + ", tls " + tls.spelling()
                + ", " + pool + "]";
    }
}
