package io.pgstitch.conf;

import java.util.Objects;

/**
 * Whom pgstitch logs in to a shard as, on behalf of a client: the user the client authenticated as (the default,
 * so that grants, row-level security and {@code current_user} work as they do directly), or one configured role
 * for every client ({@code user}/{@code password} on the shard or on the route).
 */
public sealed interface BackendIdentity {

    /** The default: each client reaches the shard as itself. */
    BackendIdentity CLIENT_USER = new ClientUser();

    /** The role to log in to the shard as, for a client that authenticated as {@code clientUser}. */
    String userFor(String clientUser);

    /** For check-config and logs: {@code as the client's user}, {@code as forced user "app" (from shards.s1.user)}. */
    String describe();

    /**
     * Each client reaches the shard as the user it authenticated as; the credentials come from that login (SCRAM
     * pass-through, the users file or auth_query), not from the configuration.
     */
    record ClientUser() implements BackendIdentity {
        @Override
        public String userFor(String clientUser) {
            return clientUser;
        }

        @Override
        public String describe() {
            return "as the client's user";
        }
    }

    /**
     * Every client reaches the shard as {@code user}.
     *
     * @param password used for whatever password method the shard asks for; null when none was configured (the
     *                 shard trusts this role)
     * @param origin   where it was configured, e.g. {@code shards.shard1} or {@code routes.tenant_b}, so that a
     *                 message can name the setting to fix ({@code origin + ".password"})
     */
    record Forced(String user, String password, String origin) implements BackendIdentity {

        public Forced {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(origin, "origin");
        }

        @Override
        public String userFor(String clientUser) {
            return user;
        }

        @Override
        public String describe() {
            return "as forced user \"" + user + "\" (from " + origin + ".user)";
        }

        /** Never prints the password: configurations and routes end up in logs. */
        @Override
        public String toString() {
            return "Forced[user=" + user + (password == null ? "" : ", password=***") + ", origin=" + origin + "]";
        }
    }
}
