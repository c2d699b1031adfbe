package io.pgstitch.proxy.backend;

import io.pgstitch.protocol.auth.ScramKeys;

/**
 * What pgstitch answers a shard's authentication request with, for the user it logs in as. Never printed.
 */
public sealed interface ShardCredentials {

    /** Nothing to answer with: only a shard that trusts the user lets it in. */
    record None() implements ShardCredentials {
        @Override
        public String toString() {
            return "None";
        }
    }

    /** A plaintext password (a forced user's, or a plaintext users-file secret): answers every method. */
    record Password(String password) implements ShardCredentials {
        @Override
        public String toString() {
            return "Password[hidden]";
        }
    }

    /** A users-file or auth_query secret {@code md5...}: answers md5 only. */
    record Md5Secret(String secret) implements ShardCredentials {
        @Override
        public String toString() {
            return "Md5Secret[hidden]";
        }
    }

    /**
     * SCRAM pass-through: the keys the client's own SCRAM proof revealed (never a password), which answer a
     * shard that stores the same verifier.
     */
    record Scram(ScramKeys keys) implements ShardCredentials {
        @Override
        public String toString() {
            return "Scram[hidden]";
        }
    }

    ShardCredentials NONE = new None();

    /** How this answers, for errors that say why a login failed. */
    default String describe() {
        if (this instanceof Password) {
            return "a plaintext password";
        }
        if (this instanceof Scram) {
            return "only the SCRAM keys of the client's login";
        }
        return this instanceof Md5Secret ? "an md5 secret" : "no password";
    }
}
