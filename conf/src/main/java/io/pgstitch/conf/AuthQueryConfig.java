package io.pgstitch.conf;

import java.time.Duration;

/**
 * {@code auth.auth_query}: a user the users file does not list is looked up on the shard the client is routed
 * to, by that shard's {@code admin_user}, as PgBouncer's {@code auth_user}/{@code auth_query} do.
 *
 * @param query     run with the user name as {@code $1}; returns no row or one row of (user name, secret), the
 *                  secret as {@code pg_authid.rolpassword} holds it (a null secret: the user cannot log in with a
 *                  password)
 * @param cacheTtl  how long an answer, "no such user" included, is reused before the shard is asked again
 * @param cacheSize most answers kept; the least recently used go first
 */
public record AuthQueryConfig(String query, Duration cacheTtl, int cacheSize) {

    /** PgBouncer's default; needs a superuser lookup role (see the README for a SECURITY DEFINER function). */
    public static final String DEFAULT_QUERY = "SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = $1";
    public static final Duration DEFAULT_CACHE_TTL = Duration.ofSeconds(60);
    public static final int DEFAULT_CACHE_SIZE = 10_000;

    public static AuthQueryConfig defaults() {
        return new AuthQueryConfig(DEFAULT_QUERY, DEFAULT_CACHE_TTL, DEFAULT_CACHE_SIZE);
    }
}
