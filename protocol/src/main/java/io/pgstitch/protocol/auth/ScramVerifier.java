package io.pgstitch.protocol.auth;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * What a server stores to check SCRAM-SHA-256 logins without knowing the password, in PostgreSQL's format
 * ({@code pg_authid.rolpassword}, PgBouncer's userlist):
 *
 * <pre>
 * SCRAM-SHA-256$ITERATIONS:SALT_BASE64$STORED_KEY_BASE64:SERVER_KEY_BASE64
 * </pre>
 *
 * StoredKey = SHA-256(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key"),
 * SaltedPassword = Hi(password, salt, iterations). {@link #toString()} prints neither key: a StoredKey is as good
 * as a password against any server that accepts it, and an offline attack needs only the verifier.
 */
public record ScramVerifier(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {

    public static final String PREFIX = "SCRAM-SHA-256$";
    /** PostgreSQL's default (scram_iterations). */
    public static final int DEFAULT_ITERATIONS = 4096;
    /** PostgreSQL's SCRAM_DEFAULT_SALT_LEN. */
    public static final int DEFAULT_SALT_LENGTH = 16;
    /** PostgreSQL accepts up to INT_MAX; above a million one login costs seconds of our CPU, so refuse. */
    public static final int MAX_ITERATIONS = 1_000_000;
    private static final int KEY_LENGTH = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    public ScramVerifier {
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException("SCRAM iteration count " + iterations + " is outside 1.."
                    + MAX_ITERATIONS);
        }
        if (salt.length == 0) {
            throw new IllegalArgumentException("SCRAM salt is empty");
        }
        if (storedKey.length != KEY_LENGTH || serverKey.length != KEY_LENGTH) {
            throw new IllegalArgumentException("SCRAM-SHA-256 keys are " + KEY_LENGTH + " bytes long");
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    /**
     * Parses PostgreSQL's stored format strictly: anything else is refused with a message that says what is
     * wrong but never repeats the text, which is a secret.
     */
    public static ScramVerifier parse(String encoded) {
        if (!encoded.startsWith(PREFIX)) {
            throw malformed("it does not start with " + PREFIX);
        }
        String[] parts = encoded.substring(PREFIX.length()).split("\\$", -1);
        if (parts.length != 2) {
            throw malformed("expected exactly two '$'-separated parts after " + PREFIX);
        }
        String[] iterationsAndSalt = parts[0].split(":", -1);
        String[] keys = parts[1].split(":", -1);
        if (iterationsAndSalt.length != 2 || keys.length != 2) {
            throw malformed("expected ITERATIONS:SALT$STORED_KEY:SERVER_KEY");
        }
        int iterations;
        try {
            if (!iterationsAndSalt[0].matches("[1-9][0-9]{0,9}")) {
                throw new NumberFormatException();
            }
            iterations = Integer.parseInt(iterationsAndSalt[0]);
        } catch (NumberFormatException e) {
            throw malformed("the iteration count is not a positive whole number");
        }
        try {
            return new ScramVerifier(iterations, base64(iterationsAndSalt[1], "salt"),
                    base64(keys[0], "StoredKey"), base64(keys[1], "ServerKey"));
        } catch (IllegalArgumentException e) {
            throw malformed(e.getMessage());
        }
    }

    /** A verifier for {@code password} with a random 16-byte salt and 4096 iterations, as PostgreSQL makes. */
    public static ScramVerifier fromPassword(String password) {
        byte[] salt = new byte[DEFAULT_SALT_LENGTH];
        RANDOM.nextBytes(salt);
        return fromPassword(password, salt, DEFAULT_ITERATIONS);
    }

    /**
     * Exactly PostgreSQL's scram_build_secret: the password goes through {@link SaslPrep} first (its UTF-8 bytes
     * as they are when SASLprep refuses it), so that {@code "a\u00A0b"} gets the verifier of {@code "a b"}.
     */
    public static ScramVerifier fromPassword(String password, byte[] salt, int iterations) {
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw new IllegalArgumentException("SCRAM iteration count " + iterations + " is outside 1.."
                    + MAX_ITERATIONS);
        }
        byte[] salted = ScramFunctions.hi(SaslPrep.passwordBytes(password), salt, iterations);
        return new ScramVerifier(iterations, salt, ScramFunctions.sha256(ScramFunctions.hmac(salted, "Client Key")),
                ScramFunctions.hmac(salted, "Server Key"));
    }

    /**
     * The verifier of a user that does not exist (or has no SCRAM secret), like PostgreSQL's mock_scram_secret:
     * the salt is HMAC-SHA-256(serverSecret, user) cut to 16 bytes, so it is the same on every attempt for one
     * name and a client cannot tell the user is unknown; the iteration count is the default. Both keys are zero,
     * which no password produces (it would take a SHA-256 preimage of zero), and {@link #isMock()} lets the server
     * fail the proof without relying even on that.
     *
     * @param serverSecret random bytes kept for the life of the process (PostgreSQL: mock_auth_nonce)
     */
    public static ScramVerifier mock(byte[] serverSecret, String user) {
        return new ScramVerifier(DEFAULT_ITERATIONS, mockSalt(serverSecret, user), new byte[KEY_LENGTH],
                new byte[KEY_LENGTH]);
    }

    /** The salt {@link #mock} uses: for building a verifier on the fly that must look like the mock one. */
    public static byte[] mockSalt(byte[] serverSecret, String user) {
        return Arrays.copyOf(ScramFunctions.hmac(serverSecret, user), DEFAULT_SALT_LENGTH);
    }

    /** True for {@link #mock} verifiers: an exchange against one must fail however the client answers. */
    public boolean isMock() {
        byte any = 0;
        for (byte b : storedKey) {
            any |= b;
        }
        return any == 0;
    }

    /** PostgreSQL's stored format; contains the keys, so treat the result as a secret. */
    public String encoded() {
        Base64.Encoder base64 = Base64.getEncoder();
        return PREFIX + iterations + ":" + base64.encodeToString(salt) + "$" + base64.encodeToString(storedKey)
                + ":" + base64.encodeToString(serverKey);
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ScramVerifier that && iterations == that.iterations
                && Arrays.equals(salt, that.salt) && MessageDigest.isEqual(storedKey, that.storedKey)
                && MessageDigest.isEqual(serverKey, that.serverKey);
    }

    @Override
    public int hashCode() {
        return 31 * iterations + Arrays.hashCode(salt);
    }

    @Override
    public String toString() {
        return "ScramVerifier[SCRAM-SHA-256, " + iterations + " iterations, keys hidden]";
    }

    private static byte[] base64(String text, String what) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("the " + what + " is empty");
        }
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the " + what + " is not valid base64");
        }
    }

    private static IllegalArgumentException malformed(String why) {
        return new IllegalArgumentException("malformed SCRAM-SHA-256 secret: " + why);
    }
}
