package io.pgstitch.protocol.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The answer to AuthenticationMD5Password: {@code "md5" + md5hex(md5hex(password + user) + salt)}, as
 * PostgreSQL's pg_md5_encrypt computes it. A stored password that is already {@code "md5" + 32 hex} (from
 * pg_authid or a PgBouncer userlist) skips the inner step.
 */
public final class Md5Password {

    private Md5Password() {
    }

    public static String encode(String user, String password, byte[] salt) {
        String inner = isMd5Hash(password) ? password.substring(3)
                : md5Hex(password.getBytes(StandardCharsets.UTF_8), user.getBytes(StandardCharsets.UTF_8));
        return "md5" + md5Hex(inner.getBytes(StandardCharsets.US_ASCII), salt);
    }

    /**
     * The server side: checks the client's answer to AuthenticationMD5Password against what the users file
     * stores, in constant time. Both an {@code md5...} hash and a plaintext password work as {@code stored}, as in
     * PostgreSQL's md5_crypt_verify; a SCRAM secret cannot answer MD5 and never verifies.
     *
     * @param salt     the 4 bytes sent in AuthenticationMD5Password
     * @param response the PasswordMessage's text: {@code "md5" + md5hex(md5hex(password + user) + salt)}
     */
    public static boolean verify(String user, String stored, byte[] salt, String response) {
        if (stored.startsWith(ScramVerifier.PREFIX) || response == null) {
            return false;
        }
        return Passwords.equal(encode(user, stored, salt), response);
    }

    /** {@code "md5" + md5hex(password + user)}: the form pg_authid stores. */
    public static String hash(String user, String password) {
        return "md5" + md5Hex(password.getBytes(StandardCharsets.UTF_8), user.getBytes(StandardCharsets.UTF_8));
    }

    static boolean isMd5Hash(String password) {
        return password.length() == 35 && password.startsWith("md5")
                && password.substring(3).chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    private static String md5Hex(byte[] first, byte[] second) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(first);
            md5.update(second);
            return HexFormat.of().formatHex(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has MD5", e);
        }
    }
}
