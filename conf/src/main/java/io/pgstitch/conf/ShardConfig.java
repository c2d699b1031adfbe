package io.pgstitch.conf;

import java.nio.file.Path;

/**
 * {@code shards.NAME}: one PostgreSQL instance, whom clients reach it as, and the role of the control plane.
 *
 * @param user          a forced user: every client reaches this shard as this role; null: each client as the
 *                      user it authenticated as. A route may force a user of its own: {@link Route#identity()} is
 *                      what applies to a connection
 * @param password      the forced user's password; null when it has none (trust) or there is no forced user
 * @param adminUser     the control-plane role: runs {@code auth.auth_query} lookups; null when none is configured
 * @param adminPassword {@code adminUser}'s password; null when it has none
 * @param tlsCa         PEM file of the CA(s) the shard's certificate must chain to
 *                      ({@code tls: verify-ca|verify-full}); null otherwise
 */
public record ShardConfig(String name, String host, int port, String user, String password, String adminUser,
                          String adminPassword, ShardTlsMode tls, Path tlsCa, PoolConfig pool) {

    /** A shard without a control-plane role. */
    public ShardConfig(String name, String host, int port, String user, String password, ShardTlsMode tls,
                       Path tlsCa, PoolConfig pool) {
        this(name, host, port, user, password, null, null, tls, tlsCa, pool);
    }

    /** A shard without a CA file and without a control-plane role. */
    public ShardConfig(String name, String host, int port, String user, String password, ShardTlsMode tls,
                       PoolConfig pool) {
        this(name, host, port, user, password, null, null, tls, null, pool);
    }

    /** Whom clients routed here reach the shard as, unless their route forces a user of its own. */
    public BackendIdentity identity() {
        return user == null ? BackendIdentity.CLIENT_USER
                : new BackendIdentity.Forced(user, password, "shards." + name);
    }

    @Override
    public String toString() {
        // never print a password
        return "ShardConfig[" + name + " " + host + ":" + port
                + (user == null ? " as the client's user" : " user " + user)
                + (adminUser == null ? "" : ", admin_user " + adminUser) + ", tls " + tls.spelling() + ", " + pool
                + "]";
    }
}
