package io.pgstitch.conf;

/**
 * The secret of one users-file entry or auth_query answer, classified as PostgreSQL's get_password_type does
 * (see {@link UsersFile#classify}).
 * The text stays a string: conf does not depend on protocol (it would pull Netty into the config model), so
 * {@code ScramVerifier.parse} and {@code Md5Password.verify} read it there. No {@code toString} prints it.
 */
public sealed interface UserSecret {

    /** The secret as written in the file. Treat it like a password. */
    String text();

    /** {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}, checked for shape when read. */
    record Scram(String text) implements UserSecret {
        @Override
        public String toString() {
            return "Scram[hidden]";
        }
    }

    /** {@code md5} followed by 32 lower-case hex digits: md5(password + user). */
    record Md5(String text) implements UserSecret {
        @Override
        public String toString() {
            return "Md5[hidden]";
        }
    }

    /** Anything else is a plaintext password, as in PostgreSQL and PgBouncer. */
    record Plain(String text) implements UserSecret {
        @Override
        public String toString() {
            return "Plain[hidden]";
        }
    }
}
