package io.pgstitch.proxy.backend;

/**
 * Who pgstitch logs in to a shard as, and with what: the client's own user (default) or a forced user
 * ({@code shards.NAME.user}, or a route's {@code user}).
 *
 * @param missingCredentials what to say when the shard asks for a password this login cannot give: the
 *                           setting that lacks it ({@code shards.s1.password is not set}) or where the client's
 *                           secret should come from
 */
public record ShardLogin(String user, ShardCredentials credentials, String missingCredentials) {

    @Override
    public String toString() {
        return "ShardLogin[" + user + ", " + credentials + "]";
    }
}
