package io.pgstitch.conf;

/**
 * {@code shards.NAME}: one PostgreSQL instance and the credentials pgstitch logs in to it with.
 *
 * @param password null when the shard asks for none (trust)
 */
public record ShardConfig(String name, String host, int port, String user, String password, ShardTlsMode tls,
                          PoolConfig pool) {

    @Override
    public String toString() {
        // never print the password
        return "ShardConfig[" + name + " " + host + ":" + port + " user " + user + ", tls " + tls.spelling()
                + ", " + pool + "]";
    }
}
