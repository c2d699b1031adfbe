package io.pgstitch.protocol.auth;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * What answers a SCRAM-SHA-256 exchange without the password: the ClientKey (RFC 5802: HMAC(SaltedPassword,
 * "Client Key")) and the ServerKey, with the salt and iteration count they were derived with. A server that
 * checked a client's proof against a verifier recovers them (see {@link ScramSha256Server.Outcome.Authenticated});
 * {@link ScramSha256Client#withKeys} logs in with them to another server that stores the same verifier.
 *
 * <p>The ClientKey is as good as the password against every server with that verifier: keep it in memory only,
 * for as long as the client's session needs it. {@link #toString()} prints neither key.
 */
public record ScramKeys(byte[] clientKey, byte[] serverKey, byte[] salt, int iterations) {

    private static final int KEY_LENGTH = 32;

    public ScramKeys {
        if (clientKey.length != KEY_LENGTH || serverKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException("SCRAM-SHA-256 keys are " + KEY_LENGTH + " bytes long");
        }
        if (salt.length == 0) {
            throw new IllegalArgumentException("SCRAM salt is empty");
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("SCRAM iteration count " + iterations + " is not positive");
        }
        clientKey = clientKey.clone();
        serverKey = serverKey.clone();
        salt = salt.clone();
    }

    /** The keys of {@code password} for a salt and iteration count, derived as a client derives them. */
    public static ScramKeys fromPassword(String password, byte[] salt, int iterations) {
        byte[] salted = ScramFunctions.hi(SaslPrep.passwordBytes(password), salt, iterations);
        return new ScramKeys(ScramFunctions.hmac(salted, "Client Key"), ScramFunctions.hmac(salted, "Server Key"),
                salt, iterations);
    }

    /** StoredKey = H(ClientKey): what a verifier made with the same password and salt holds. */
    public byte[] storedKey() {
        return ScramFunctions.sha256(clientKey);
    }

    /** Whether {@code verifier} is the one these keys answer: same salt, iterations, StoredKey and ServerKey. */
    public boolean matches(ScramVerifier verifier) {
        return verifier.equals(new ScramVerifier(iterations, salt, storedKey(), serverKey));
    }

    @Override
    public byte[] clientKey() {
        return clientKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ScramKeys that && iterations == that.iterations && Arrays.equals(salt, that.salt)
                && MessageDigest.isEqual(clientKey, that.clientKey) && MessageDigest.isEqual(serverKey, that.serverKey);
    }

    @Override
    public int hashCode() {
        return 31 * iterations + Arrays.hashCode(salt);
    }

    @Override
    public String toString() {
        return "ScramKeys[SCRAM-SHA-256, " + iterations + " iterations, keys hidden]";
    }
}
