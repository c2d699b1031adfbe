package io.pgstitch.protocol.auth;

import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;

import static io.pgstitch.protocol.auth.ScramCursor.malformed;
import static io.pgstitch.protocol.auth.ScramCursor.sanitize;

/**
 * The server side of SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, 7677, 5929 {@code tls-server-end-point}),
 * checking the client as PostgreSQL's auth-scram.c does, with its error messages:
 *
 * <pre>
 * AuthenticationSASL        mechanisms()                      -PLUS first, offered only with TLS
 * SASLInitialResponse   ->  serverFirstMessage(mech, data)    -> AuthenticationSASLContinue
 * SASLResponse          ->  verifyClientFinal(data)           -> Authenticated: AuthenticationSASLFinal + Ok
 *                                                             -> Failed: Passwords.authenticationFailed (28P01)
 * </pre>
 *
 * The user name in client-first ({@code n=}) is ignored, as in PostgreSQL: the startup packet's counts. Every
 * malformed message is a FATAL {@code 08P01} PgException; a wrong proof is not an exception but
 * {@link Outcome.Failed}, and so is any proof against a {@link ScramVerifier#mock} verifier: a caller that uses
 * the mock for unknown users treats them exactly like a wrong password. Messages are read as ISO-8859-1, one
 * character per byte, so that the AuthMessage is hashed over exactly the bytes the client sent. One instance
 * serves one exchange; not thread-safe (it lives on the connection's event loop).
 */
public final class ScramSha256Server {

    public static final String MECHANISM = ScramSha256Client.MECHANISM;
    public static final String MECHANISM_PLUS = ScramSha256Client.MECHANISM_PLUS;
    /** Far above any real client's message (they are about 100 bytes); refused before anything is parsed. */
    static final int MAX_MESSAGE_LENGTH = 2048;
    private static final String GS2_BINDING = "p=" + ChannelBinding.TLS_SERVER_END_POINT + ",,";
    private static final int RAW_NONCE_LENGTH = 18; // PostgreSQL's SCRAM_RAW_NONCE_LEN
    private static final int PROOF_LENGTH = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What the exchange waits for; each message is accepted in exactly one state. */
    private enum State {
        /** SASLInitialResponse carrying client-first-message. */
        CLIENT_FIRST,
        /** SASLResponse carrying client-final-message. */
        CLIENT_FINAL,
        /** Nothing: the exchange succeeded, failed or was refused. */
        DONE
    }

    /** How a well-formed exchange ended. */
    public sealed interface Outcome {

        /**
         * The proof verified: send {@code serverFinalMessage} in AuthenticationSASLFinal, then AuthenticationOk.
         *
         * @param keys the client's keys, recovered from its proof (ClientKey = ClientProof XOR
         *             HMAC(StoredKey, AuthMessage), checked by H(ClientKey) = StoredKey): with them
         *             {@link ScramSha256Client#withKeys} logs in as this client to a server with the same verifier
         */
        record Authenticated(byte[] serverFinalMessage, ScramKeys keys) implements Outcome {
            public Authenticated {
                serverFinalMessage = serverFinalMessage.clone();
            }

            @Override
            public byte[] serverFinalMessage() {
                return serverFinalMessage.clone();
            }

            @Override
            public String toString() {
                return "Authenticated[" + keys + "]";
            }
        }

        /** Wrong password or unknown user, on purpose indistinguishable: answer FATAL 28P01. */
        record Failed() implements Outcome {
        }
    }

    private final ScramVerifier verifier;
    private final byte[] tlsServerEndPoint;
    private final String serverNonce;
    private State state = State.CLIENT_FIRST;
    private boolean channelBound;
    /** The gs2 header's first character: 'n', 'y' or 'p'. */
    private char cbindFlag;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;

    /**
     * @param verifier          the user's verifier, or {@link ScramVerifier#mock} when the user is unknown or has
     *                          no SCRAM secret
     * @param tlsServerEndPoint {@link ChannelBinding#tlsServerEndPoint} of our certificate when the client
     *                          connection has TLS (-PLUS is then offered), null without TLS
     */
    public ScramSha256Server(ScramVerifier verifier, byte[] tlsServerEndPoint) {
        this(verifier, tlsServerEndPoint, randomNonce());
    }

    /** With a fixed server nonce, for byte-exact tests against published vectors. */
    ScramSha256Server(ScramVerifier verifier, byte[] tlsServerEndPoint, String serverNonce) {
        this.verifier = verifier;
        this.tlsServerEndPoint = tlsServerEndPoint == null ? null : tlsServerEndPoint.clone();
        this.serverNonce = serverNonce;
    }

    /** The mechanisms for AuthenticationSASL, in PostgreSQL's order. */
    public List<String> mechanisms() {
        return tlsServerEndPoint == null ? List.of(MECHANISM) : List.of(MECHANISM_PLUS, MECHANISM);
    }

    /**
     * Reads client-first-message and answers server-first-message.
     *
     * @param mechanism          the mechanism of SASLInitialResponse
     * @param clientFirstMessage its data; null (no initial response) is refused: every known client sends one
     */
    public byte[] serverFirstMessage(String mechanism, byte[] clientFirstMessage) {
        expect(State.CLIENT_FIRST, "client-first-message");
        state = State.DONE; // until it succeeds: an exchange that threw once cannot go on
        if (MECHANISM_PLUS.equals(mechanism) && tlsServerEndPoint != null) {
            channelBound = true;
        } else if (!MECHANISM.equals(mechanism)) {
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                    "client selected an invalid SASL authentication mechanism");
        }
        ScramCursor in = new ScramCursor(text(clientFirstMessage));
        readGs2Header(in);
        clientFirstBare = in.rest();
        if (in.peek() == 'm') {
            throw malformed("The client requires an unsupported SCRAM extension.");
        }
        in.attribute('n'); // SASLname: ignored, the startup packet's user name counts
        String clientNonce = in.attribute('r');
        if (clientNonce.isEmpty()) {
            throw malformed("The client nonce is empty.");
        }
        if (!printable(clientNonce)) {
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "client nonce contains invalid characters");
        }
        while (!in.atEnd()) {
            in.anyAttribute(); // optional extensions, ignored as PostgreSQL does
        }
        nonce = clientNonce + serverNonce;
        serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(verifier.salt()) + ",i="
                + verifier.iterations();
        state = State.CLIENT_FINAL;
        return serverFirst.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Reads client-final-message and checks channel binding, nonce and proof. */
    public Outcome verifyClientFinal(byte[] clientFinalMessage) {
        expect(State.CLIENT_FINAL, "client-final-message");
        state = State.DONE;
        ScramCursor in = new ScramCursor(text(clientFinalMessage));
        checkChannelBinding(in.attribute('c'));
        String finalNonce = in.attribute('r');
        int proofStart;
        char name;
        String proofText;
        do {
            proofStart = in.position();
            name = in.peek();
            proofText = in.anyAttribute(); // extensions before the proof are allowed and ignored
        } while (name != 'p');
        byte[] proof = base64(proofText);
        if (proof == null || proof.length != PROOF_LENGTH) {
            throw malformed("Malformed proof in client-final-message.");
        }
        if (!in.atEnd()) {
            throw malformed("Garbage found at the end of client-final-message.");
        }
        if (!finalNonce.equals(nonce)) {
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "invalid SCRAM response")
                    .withDetail("Nonce does not match.");
        }
        String withoutProof = in.before(proofStart - 1);
        byte[] authMessage = (clientFirstBare + "," + serverFirst + "," + withoutProof)
                .getBytes(StandardCharsets.ISO_8859_1);
        byte[] storedKey = verifier.storedKey();
        byte[] clientKey = ScramFunctions.xor(proof, ScramFunctions.hmac(storedKey, authMessage));
        boolean verified = MessageDigest.isEqual(ScramFunctions.sha256(clientKey), storedKey);
        if (!verified || verifier.isMock()) {
            return new Outcome.Failed();
        }
        byte[] serverKey = verifier.serverKey();
        byte[] signature = ScramFunctions.hmac(serverKey, authMessage);
        return new Outcome.Authenticated(("v=" + Base64.getEncoder().encodeToString(signature))
                .getBytes(StandardCharsets.ISO_8859_1),
                new ScramKeys(clientKey, serverKey, verifier.salt(), verifier.iterations()));
    }

    /** gs2-header: {@code n,,} / {@code y,,} / {@code p=tls-server-end-point,,}; no authzid. */
    private void readGs2Header(ScramCursor in) {
        char flag = in.peek();
        cbindFlag = flag;
        switch (flag) {
            case 'n', 'y' -> {
                if (channelBound) {
                    throw malformed("The client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not "
                            + "include channel binding data.");
                }
                if (flag == 'y' && tlsServerEndPoint != null) {
                    // The client can bind and believes we cannot: someone removed -PLUS from our offer.
                    throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                            "SCRAM channel binding negotiation error").withDetail("The client supports SCRAM "
                            + "channel binding but thinks the server does not.  However, this server does "
                            + "support channel binding.");
                }
                in.skip();
                if (in.peek() != ',') {
                    throw malformed("Comma expected, but found character \"" + in.peekSanitized() + "\".");
                }
                in.skip();
            }
            case 'p' -> {
                if (!channelBound) {
                    throw malformed("The client selected SCRAM-SHA-256 without channel binding, but the SCRAM "
                            + "message includes channel binding data.");
                }
                String type = in.attribute('p');
                if (!type.equals(ChannelBinding.TLS_SERVER_END_POINT)) {
                    throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "unsupported SCRAM channel-binding type \""
                            + sanitize(type) + "\"");
                }
            }
            default -> throw malformed("Unexpected channel-binding flag \"" + in.peekSanitized() + "\".");
        }
        if (in.peek() == 'a') {
            throw PgException.fatal(SqlState.FEATURE_NOT_SUPPORTED,
                    "client uses authorization identity, but it is not supported");
        }
        if (in.peek() != ',') {
            throw malformed("Unexpected attribute \"" + in.peekSanitized() + "\" in client-first-message.");
        }
        in.skip();
    }

    /** Without -PLUS, c= is "biws" ("n,,") or "eSws" ("y,,"); with it, the gs2 header plus our binding data. */
    private void checkChannelBinding(String value) {
        if (channelBound) {
            String expected = ScramFunctions.channelBinding(GS2_BINDING, tlsServerEndPoint);
            if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.ISO_8859_1),
                    value.getBytes(StandardCharsets.ISO_8859_1))) {
                throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                        "SCRAM channel binding check failed");
            }
        } else if (!value.equals(cbindFlag == 'y' ? "eSws" : "biws")) {
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                    "unexpected SCRAM channel-binding attribute in client-final-message");
        }
    }

    private void expect(State wanted, String message) {
        if (state != wanted) {
            state = State.DONE;
            throw malformed("Unexpected " + message + ": the exchange is "
                    + (wanted == State.CLIENT_FIRST ? "past that step." : "not at that step."));
        }
    }

    /** The message as one character per byte, after the checks PostgreSQL's scram_exchange makes first. */
    private static String text(byte[] message) {
        if (message == null || message.length == 0) {
            throw malformed("The message is empty.");
        }
        if (message.length > MAX_MESSAGE_LENGTH) {
            throw malformed("The message is " + message.length + " bytes long, the limit is "
                    + MAX_MESSAGE_LENGTH + ".");
        }
        for (byte b : message) {
            if (b == 0) {
                throw malformed("Message length does not match input length.");
            }
        }
        return new String(message, StandardCharsets.ISO_8859_1);
    }

    /** RFC 5802 printable: %x21-2B / %x2D-7E, i.e. visible ASCII except ','. */
    private static boolean printable(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x21 || c > 0x7E || c == ',') {
                return false;
            }
        }
        return true;
    }

    private static byte[] base64(String text) {
        try {
            return Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String randomNonce() {
        byte[] raw = new byte[RAW_NONCE_LENGTH];
        RANDOM.nextBytes(raw);
        return Base64.getEncoder().encodeToString(raw);
    }
}
