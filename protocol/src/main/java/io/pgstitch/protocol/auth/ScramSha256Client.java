package io.pgstitch.protocol.auth;

import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as libpq runs it: an empty user name in client-first
 * (the server uses the startup packet's), the password through {@link SaslPrep}, and optionally
 * SCRAM-SHA-256-PLUS with {@code tls-server-end-point} channel binding (RFC 5929), which ties the proof to the
 * TLS connection so that a man in the middle cannot relay it.
 *
 * <pre>
 * client-first  GS2_HEADER n=,r=CLIENT_NONCE           GS2_HEADER: n,, | y,, | p=tls-server-end-point,,
 * server-first  r=CLIENT_NONCE+SERVER_NONCE,s=SALT_BASE64,i=ITERATIONS
 * client-final  c=BASE64(GS2_HEADER + CBIND_DATA),r=NONCE,p=PROOF_BASE64
 * server-final  v=SERVER_SIGNATURE_BASE64   (or e=ERROR)
 * </pre>
 *
 * Instead of a password the client can hold {@link ScramKeys} recovered from another exchange against the same
 * verifier ({@link #withKeys}): the proof needs only the ClientKey, the server signature only the ServerKey.
 */
public final class ScramSha256Client {

    public static final String MECHANISM = "SCRAM-SHA-256";
    public static final String MECHANISM_PLUS = "SCRAM-SHA-256-PLUS";
    /** No channel binding: the client cannot bind (no TLS). */
    private static final String GS2_NO_BINDING = "n,,";
    /** The client could bind but the server did not offer -PLUS; a server that did will see the downgrade. */
    private static final String GS2_SERVER_CANNOT_BIND = "y,,";
    private static final String GS2_BINDING = "p=" + ChannelBinding.TLS_SERVER_END_POINT + ",,";
    /** Far above PostgreSQL's default of 4096; a larger count from a server is an attempt to burn our CPU. */
    private static final int MAX_ITERATIONS = 1_000_000;

    /** The SASLprep'd password, or null when the client answers with {@link #keys}. */
    private final byte[] password;
    private final ScramKeys keys;
    private final String clientNonce;
    private final String mechanism;
    private final String gs2Header;
    private final byte[] channelBindingData;
    private String clientFirstBare;
    private byte[] expectedServerSignature;

    /** SCRAM-SHA-256 without channel binding ({@code n,,}). */
    public ScramSha256Client(String password) {
        this(password, randomNonce());
    }

    /** With a fixed nonce, for byte-exact tests against published vectors. */
    public ScramSha256Client(String password, String clientNonce) {
        this(SaslPrep.passwordBytes(password), null, clientNonce, MECHANISM, GS2_NO_BINDING, new byte[0]);
    }

    /**
     * SCRAM-SHA-256-PLUS, for a server that offered it over TLS.
     *
     * @param tlsServerEndPoint {@link ChannelBinding#tlsServerEndPoint} of the certificate the server presented
     */
    public ScramSha256Client(String password, byte[] tlsServerEndPoint) {
        this(password, tlsServerEndPoint, randomNonce());
    }

    /** SCRAM-SHA-256-PLUS with a fixed nonce, for tests. */
    public ScramSha256Client(String password, byte[] tlsServerEndPoint, String clientNonce) {
        this(SaslPrep.passwordBytes(password), null, clientNonce, MECHANISM_PLUS, GS2_BINDING,
                tlsServerEndPoint.clone());
    }

    private ScramSha256Client(byte[] password, ScramKeys keys, String clientNonce, String mechanism,
                              String gs2Header, byte[] channelBindingData) {
        this.password = password;
        this.keys = keys;
        this.clientNonce = clientNonce;
        this.mechanism = mechanism;
        this.gs2Header = gs2Header;
        this.channelBindingData = channelBindingData;
    }

    /**
     * The choice libpq makes with channel_binding=prefer: -PLUS when the server offers it and the connection has
     * TLS; otherwise plain SCRAM-SHA-256, flagged {@code y,,} over TLS so that a server that did offer -PLUS
     * (and had the offer stripped by an attacker) refuses the login.
     *
     * @param offered           the mechanisms of AuthenticationSASL
     * @param tlsServerEndPoint the server certificate's binding data; null without TLS
     * @return null when the server offers neither mechanism
     */
    public static ScramSha256Client forMechanisms(String password, List<String> offered, byte[] tlsServerEndPoint) {
        return choose(SaslPrep.passwordBytes(password), null, offered, tlsServerEndPoint, randomNonce());
    }

    /**
     * Like {@link #forMechanisms}, answering with keys recovered from the client's own exchange instead of a
     * password (SCRAM pass-through). The server must use the keys' salt and iteration count, which it does when
     * it stores the verifier the keys were checked against; otherwise {@link #clientFinalMessage} refuses to go
     * on with a FATAL {@code 08004}.
     *
     * @return null when the server offers neither mechanism
     */
    public static ScramSha256Client withKeys(ScramKeys keys, List<String> offered, byte[] tlsServerEndPoint) {
        return withKeys(keys, offered, tlsServerEndPoint, randomNonce());
    }

    /** {@link #withKeys} with a fixed nonce, for tests. */
    static ScramSha256Client withKeys(ScramKeys keys, List<String> offered, byte[] tlsServerEndPoint,
                                      String clientNonce) {
        return choose(null, keys, offered, tlsServerEndPoint, clientNonce);
    }

    private static ScramSha256Client choose(byte[] password, ScramKeys keys, List<String> offered,
                                            byte[] tlsServerEndPoint, String clientNonce) {
        if (tlsServerEndPoint != null && offered.contains(MECHANISM_PLUS)) {
            return new ScramSha256Client(password, keys, clientNonce, MECHANISM_PLUS, GS2_BINDING,
                    tlsServerEndPoint.clone());
        }
        if (!offered.contains(MECHANISM)) {
            return null;
        }
        return new ScramSha256Client(password, keys, clientNonce, MECHANISM,
                tlsServerEndPoint == null ? GS2_NO_BINDING : GS2_SERVER_CANNOT_BIND, new byte[0]);
    }

    /** The mechanism name for SASLInitialResponse. */
    public String mechanism() {
        return mechanism;
    }

    public byte[] clientFirstMessage() {
        clientFirstBare = "n=,r=" + clientNonce;
        return (gs2Header + clientFirstBare).getBytes(StandardCharsets.UTF_8);
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
        byte[] clientKey;
        byte[] serverKey;
        if (keys != null) {
            checkKeysFit(salt, iterations);
            clientKey = keys.clientKey();
            serverKey = keys.serverKey();
        } else {
            byte[] saltedPassword = ScramFunctions.hi(password, salt, iterations);
            clientKey = ScramFunctions.hmac(saltedPassword, "Client Key");
            serverKey = ScramFunctions.hmac(saltedPassword, "Server Key");
        }
        byte[] storedKey = ScramFunctions.sha256(clientKey);
        String clientFinalWithoutProof = "c=" + ScramFunctions.channelBinding(gs2Header, channelBindingData)
                + ",r=" + nonce;
        String authMessage = clientFirstBare + "," + serverFirst + "," + clientFinalWithoutProof;
        byte[] proof = ScramFunctions.xor(clientKey, ScramFunctions.hmac(storedKey, authMessage));
        expectedServerSignature = ScramFunctions.hmac(serverKey, authMessage);
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

    /**
     * Keys answer only a server that salts and iterates as the verifier they came from did. Checked before any
     * proof is sent: a proof computed anyway would fail, and the shard would log a wrong password for the user.
     */
    private void checkKeysFit(byte[] salt, int iterations) {
        List<String> differences = new ArrayList<>(2);
        if (!MessageDigest.isEqual(salt, keys.salt())) {
            differences.add("salt differs");
        }
        if (iterations != keys.iterations()) {
            differences.add("iteration count " + iterations + ", pgstitch's " + keys.iterations());
        }
        if (differences.isEmpty()) {
            return;
        }
        String what = String.join("; ", differences);
        throw PgException.fatal(SqlState.SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION,
                "the shard's SCRAM verifier for this user differs from pgstitch's (" + what + ")")
                .withHint("Give pgstitch the user's verifier from the shard's pg_authid.rolpassword, or the shard "
                        + "the user's verifier from pgstitch.");
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

    private static String randomNonce() {
        byte[] nonce = new byte[18];
        new SecureRandom().nextBytes(nonce);
        return Base64.getEncoder().encodeToString(nonce);
    }

    private static PgException failure(String why) {
        return PgException.fatal(SqlState.PROTOCOL_VIOLATION, "SCRAM-SHA-256 exchange failed: " + why);
    }
}
