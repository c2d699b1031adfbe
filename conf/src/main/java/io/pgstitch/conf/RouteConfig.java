package io.pgstitch.conf;

/**
 * One entry of {@code routes}: a database ID or glob pattern, the shard, and the backend database (null: the
 * database ID itself).
 *
 * @param forcedUser the route's own {@code user}/{@code password}; null: the shard's identity applies
 */
public record RouteConfig(String pattern, String shard, String database, BackendIdentity.Forced forcedUser) {

    /** A route without a forced user of its own. */
    public RouteConfig(String pattern, String shard, String database) {
        this(pattern, shard, database, null);
    }

    public boolean isGlob() {
        return Glob.isGlob(pattern);
    }
}
