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
 * @param maxConnections the most connections pgstitch opens to this shard, all pools together (keep it below the
 *                      server's max_connections minus its reserved ones)
 * @param requireAuth   the authentication methods the shard may use; null: any password method when pgstitch has
 *                      a password for the user, anything when it has none
 */
public record ShardConfig(String name, String host, int port, String user, String password, String adminUser,
                          String adminPassword, ShardTlsMode tls, Path tlsCa, PoolConfig pool, int maxConnections,
                          RequireAuth requireAuth) {

    /** Default {@code max_connections}: PostgreSQL's default 100, less its 3 reserved and a few for admins. */
    public static final int DEFAULT_MAX_CONNECTIONS = 90;

    /** A shard with the default total and authentication requirement. */
    public ShardConfig(String name, String host, int port, String user, String password, String adminUser,
                       String adminPassword, ShardTlsMode tls, Path tlsCa, PoolConfig pool) {
        this(name, host, port, user, password, adminUser, adminPassword, tls, tlsCa, pool, DEFAULT_MAX_CONNECTIONS,
                null);
    }

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
                + ", max_connections " + maxConnections + (requireAuth == null ? "" : ", require_auth " + requireAuth)
                + "]";
    }
}
