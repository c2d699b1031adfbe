package io.pgstitch.protocol.auth;

import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL runs it: no channel binding ("n,,"),
 * an empty user name in client-first (the server uses the startup packet's), the password as UTF-8 bytes.
 *
 * <pre>
 * client-first  n,,n=,r=CLIENT_NONCE
 * server-first  r=CLIENT_NONCE+SERVER_NONCE,s=SALT_BASE64,i=ITERATIONS
 * client-final  c=biws,r=NONCE,p=PROOF_BASE64
 * server-final  v=SERVER_SIGNATURE_BASE64   (or e=ERROR)
 * </pre>
 */
public final class ScramSha256Client {

    public static final String MECHANISM = "SCRAM-SHA-256";
    private static final String GS2_HEADER = "n,,";
    /** Far above PostgreSQL's default of 4096; a larger count from a server is an attempt to burn our CPU. */
    private static final int MAX_ITERATIONS = 1_000_000;

    private final byte[] password;
    private final String clientNonce;
    private String clientFirstBare;
    private byte[] expectedServerSignature;

    public ScramSha256Client(String password) {
        this(password, randomNonce());
    }

    /** With a fixed nonce, for byte-exact tests against published vectors. */
    public ScramSha256Client(String password, String clientNonce) {
        this.password = password.getBytes(StandardCharsets.UTF_8);
        this.clientNonce = clientNonce;
    }

    public String mechanism() {
        return MECHANISM;
    }

    public byte[] clientFirstMessage() {
        clientFirstBare = "n=,r=" + clientNonce;
        return (GS2_HEADER + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    public byte[] clientFinalMessage(byte[] serverFirstMessage) {
        if (clientFirstBare == null) {
            throw failure("server-first-message before client-first-message");
        }
        String serverFirst = new String(serverFirstMessage, StandardCharsets.UTF_8);
        String nonce = null;
        byte[] salt = null;
        int iterations = -1;
        for (String attribute : serverFirst.split(",")) {
            if (attribute.startsWith("r=")) {
                nonce = attribute.substring(2);
            } else if (attribute.startsWith("s=")) {
                salt = decodeBase64(attribute.substring(2), "salt");
            } else if (attribute.startsWith("i=")) {
                iterations = parseIterations(attribute.substring(2));
            }
        }
        if (nonce == null || !nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()) {
            throw failure("server nonce does not extend the client nonce");
        }
        if (salt == null || salt.length == 0) {
            throw failure("server-first-message has no salt");
        }
        if (iterations < 1 || iterations > MAX_ITERATIONS) {
            throw failure("iteration count " + iterations + " is outside 1.." + MAX_ITERATIONS);
        }
        byte[] saltedPassword = pbkdf2(password, salt, iterations);
        byte[] clientKey = hmac(saltedPassword, "Client Key");
        byte[] storedKey = sha256(clientKey);
        String clientFinalWithoutProof = "c=" + Base64.getEncoder().encodeToString(
                GS2_HEADER.getBytes(StandardCharsets.US_ASCII)) + ",r=" + nonce;
        String authMessage = clientFirstBare + "," + serverFirst + "," + clientFinalWithoutProof;
        byte[] clientSignature = hmac(storedKey, authMessage);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ clientSignature[i]);
        }
        expectedServerSignature = hmac(hmac(saltedPassword, "Server Key"), authMessage);
        return (clientFinalWithoutProof + ",p=" + Base64.getEncoder().encodeToString(proof))
                .getBytes(StandardCharsets.UTF_8);
    }

    /** Verifies the server's signature: a server that cannot prove it knows the password is not the shard. */
    public void verifyServerFinal(byte[] serverFinalMessage) {
        String serverFinal = new String(serverFinalMessage, StandardCharsets.UTF_8);
        if (serverFinal.startsWith("e=")) {
            throw PgException.fatal(SqlState.INVALID_PASSWORD, "SCRAM authentication failed: " + serverFinal.substring(2));
        }
        if (expectedServerSignature == null || !serverFinal.startsWith("v=")) {
            throw failure("unexpected server-final-message");
        }
        String signature = serverFinal.substring(2).split(",", 2)[0];
        if (!MessageDigest.isEqual(expectedServerSignature, decodeBase64(signature, "server signature"))) {
            throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "SCRAM server signature does not match: the server does not know the password");
        }
    }

    private static int parseIterations(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw failure("iteration count \"" + text + "\" is not a number");
        }
    }

    private static byte[] decodeBase64(String text, String what) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw failure(what + " is not valid base64");
        }
    }

    /** PBKDF2-HMAC-SHA-256 with one 32-byte block: Hi() of RFC 5802. */
    static byte[] pbkdf2(byte[] password, byte[] salt, int iterations) {
        Mac mac = mac(password);
        mac.update(salt);
        mac.update(new byte[] {0, 0, 0, 1});
        byte[] u = mac.doFinal();
        byte[] result = u.clone();
        for (int i = 1; i < iterations; i++) {
            u = mac.doFinal(u);
            for (int j = 0; j < result.length; j++) {
                result[j] ^= u[j];
            }
        }
        return result;
    }

    static byte[] hmac(byte[] key, String data) {
        return mac(key).doFinal(data.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    private static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            // SecretKeySpec refuses an empty key; HMAC pads keys with zeros anyway, so one zero byte is equal.
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every Java platform has HmacSHA256", e);
        }
    }

    private static String randomNonce() {
        byte[] nonce = new byte[18];
        new SecureRandom().nextBytes(nonce);
        return Base64.getEncoder().encodeToString(nonce);
    }

    private static PgException failure(String why) {
        return PgException.fatal(SqlState.PROTOCOL_VIOLATION, "SCRAM-SHA-256 exchange failed: " + why);
    }
}
