package io.pgstitch.protocol.auth;

import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * What the password methods share: the one answer to every failed login, and the check of a cleartext password
 * (method {@code password}) against whatever form the secret is stored in.
 */
public final class Passwords {

    private Passwords() {
    }

    /**
     * PostgreSQL's answer to a wrong password, an unknown user and a user without a usable secret alike, so that
     * a client cannot probe which user names exist. Say which it was in the server log, never to the client.
     */
    public static PgException authenticationFailed(String user) {
        return PgException.fatal(SqlState.INVALID_PASSWORD, "password authentication failed for user \""
                + user + "\"");
    }

    /**
     * Checks a cleartext password as PostgreSQL's plain_crypt_verify does: against a SCRAM secret by deriving the
     * keys with its salt, against an md5 hash by hashing, against a stored plaintext directly; every comparison
     * in constant time.
     *
     * @param stored the secret from the users file: {@code SCRAM-SHA-256$...}, {@code md5...} or plaintext
     */
    public static boolean verifyCleartext(String user, String stored, String password) {
        if (stored.startsWith(ScramVerifier.PREFIX)) {
            ScramVerifier verifier = ScramVerifier.parse(stored);
            return !verifier.isMock() && verifier.equals(
                    ScramVerifier.fromPassword(password, verifier.salt(), verifier.iterations()));
        }
        if (Md5Password.isMd5Hash(stored)) {
            return equal(stored, Md5Password.hash(user, password));
        }
        return equal(stored, password);
    }

    static boolean equal(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
