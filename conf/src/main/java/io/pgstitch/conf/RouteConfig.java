package io.pgstitch.conf;

/**
 * One entry of {@code routes}: a database ID or glob pattern, the shard, and the backend database (null: the
 * database ID itself).
 */
public record RouteConfig(String pattern, String shard, String database) {

    public boolean isGlob() {
        return Glob.isGlob(pattern);
    }
}
