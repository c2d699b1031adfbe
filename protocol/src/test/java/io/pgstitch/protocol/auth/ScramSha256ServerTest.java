package io.pgstitch.protocol.auth;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.frontend.SaslInitialResponse;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScramSha256ServerTest {

    // RFC 7677 section 3: user "user", password "pencil"
    private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    private static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private static final String NONCE = CLIENT_NONCE + SERVER_NONCE;
    private static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    private static final ScramVerifier PENCIL = ScramVerifier.fromPassword("pencil", SALT, 4096);
    private static final String PROOF = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private static final String MECH = ScramSha256Server.MECHANISM;
    private static final String PLUS = ScramSha256Server.MECHANISM_PLUS;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static ScramSha256Server rfcServer() {
        return new ScramSha256Server(PENCIL, null, SERVER_NONCE);
    }

    /** A server past client-first, for client-final tests. */
    private static ScramSha256Server afterClientFirst() {
        ScramSha256Server server = rfcServer();
        server.serverFirstMessage(MECH, bytes("n,,n=user,r=" + CLIENT_NONCE));
        return server;
    }

    private static void assertViolation(ThrowingCallable call, String message, String detail) {
        assertThatThrownBy(call).isInstanceOfSatisfying(PgException.class, e -> {
            assertThat(e.sqlState()).isEqualTo("08P01");
            assertThat(e.isFatal()).isTrue();
            assertThat(e.getMessage()).isEqualTo(message);
            assertThat(e.detail()).isEqualTo(detail);
        });
    }

    private static void assertMalformed(ThrowingCallable call, String detail) {
        assertViolation(call, "malformed SCRAM message", detail);
    }

    private static void assertState(ThrowingCallable call, String sqlState, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(PgException.class, e -> {
            assertThat(e.sqlState()).isEqualTo(sqlState);
            assertThat(e.getMessage()).isEqualTo(message);
        });
    }

    @Test
    void rfc7677Vector() {
        ScramSha256Server server = rfcServer();
        assertThat(server.mechanisms()).containsExactly(MECH);
        assertThat(text(server.serverFirstMessage(MECH, bytes("n,,n=user,r=" + CLIENT_NONCE))))
                .isEqualTo("r=" + NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
        ScramSha256Server.Outcome outcome = server.verifyClientFinal(bytes("c=biws,r=" + NONCE + ",p=" + PROOF));
        assertThat(outcome).isInstanceOfSatisfying(ScramSha256Server.Outcome.Authenticated.class, ok ->
                assertThat(text(ok.serverFinalMessage())).isEqualTo("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
    }

    @Test
    void againstOurClient() {
        ScramSha256Client client = new ScramSha256Client("pencil");
        ScramSha256Server server = new ScramSha256Server(ScramVerifier.fromPassword("pencil"), null);
        byte[] serverFirst = server.serverFirstMessage(client.mechanism(), client.clientFirstMessage());
        ScramSha256Server.Outcome outcome = server.verifyClientFinal(client.clientFinalMessage(serverFirst));
        assertThat(outcome).isInstanceOf(ScramSha256Server.Outcome.Authenticated.class);
        client.verifyServerFinal(((ScramSha256Server.Outcome.Authenticated) outcome).serverFinalMessage());
    }

    @Test
    void aWrongPasswordFailsWithoutAnException() {
        ScramSha256Client client = new ScramSha256Client("pencil!");
        ScramSha256Server server = new ScramSha256Server(PENCIL, null);
        byte[] serverFirst = server.serverFirstMessage(MECH, client.clientFirstMessage());
        assertThat(server.verifyClientFinal(client.clientFinalMessage(serverFirst)))
                .isInstanceOf(ScramSha256Server.Outcome.Failed.class);
    }

    @Test
    void anUnknownUserLooksLikeAWrongPassword() {
        byte[] secret = bytes("process secret");
        ScramSha256Server first = new ScramSha256Server(ScramVerifier.mock(secret, "nobody"), null, "N");
        ScramSha256Server second = new ScramSha256Server(ScramVerifier.mock(secret, "nobody"), null, "N");
        byte[] serverFirst = first.serverFirstMessage(MECH, bytes("n,,n=,r=abc"));
        assertThat(text(serverFirst)).matches("r=abcN,s=[A-Za-z0-9+/]{22}==,i=4096")
                .isEqualTo(text(second.serverFirstMessage(MECH, bytes("n,,n=,r=abc"))));
        ScramSha256Client client = new ScramSha256Client("", "abc");
        client.clientFirstMessage();
        assertThat(first.verifyClientFinal(client.clientFinalMessage(serverFirst)))
                .isInstanceOf(ScramSha256Server.Outcome.Failed.class);
    }

    @Test
    void plusBindsTheExchangeToTheServerCertificate() throws Exception {
        X509Certificate certificate = TestCertificates.selfSigned("EC", "SHA384withECDSA");
        byte[] binding = ChannelBinding.tlsServerEndPoint(certificate);
        ScramSha256Server server = new ScramSha256Server(PENCIL, binding);
        assertThat(server.mechanisms()).containsExactly(PLUS, MECH);
        ScramSha256Client client = new ScramSha256Client("pencil", binding);
        assertThat(client.mechanism()).isEqualTo(PLUS);
        byte[] clientFirst = client.clientFirstMessage();
        assertThat(text(clientFirst)).startsWith("p=tls-server-end-point,,n=,r=");
        byte[] clientFinal = client.clientFinalMessage(server.serverFirstMessage(PLUS, clientFirst));
        ScramSha256Server.Outcome outcome = server.verifyClientFinal(clientFinal);
        assertThat(outcome).isInstanceOf(ScramSha256Server.Outcome.Authenticated.class);
        client.verifyServerFinal(((ScramSha256Server.Outcome.Authenticated) outcome).serverFinalMessage());
    }

    @Test
    void plusThroughAManInTheMiddleFails() throws Exception {
        byte[] ours = ChannelBinding.tlsServerEndPoint(TestCertificates.selfSigned("RSA", "SHA256withRSA"));
        byte[] his = ChannelBinding.tlsServerEndPoint(TestCertificates.selfSigned("RSA", "SHA256withRSA"));
        ScramSha256Server server = new ScramSha256Server(PENCIL, ours);
        ScramSha256Client client = new ScramSha256Client("pencil", his);
        byte[] serverFirst = server.serverFirstMessage(PLUS, client.clientFirstMessage());
        byte[] clientFinal = client.clientFinalMessage(serverFirst);
        assertState(() -> server.verifyClientFinal(clientFinal), "28000", "SCRAM channel binding check failed");
    }

    @Test
    void aClientThatCouldBindButSaysWeCannotIsADowngrade() {
        ScramSha256Server server = new ScramSha256Server(PENCIL, new byte[32]);
        assertState(() -> server.serverFirstMessage(MECH, bytes("y,,n=,r=abc")), "28000",
                "SCRAM channel binding negotiation error");
        ScramSha256Server withoutTls = new ScramSha256Server(PENCIL, null, "N");
        assertThat(text(withoutTls.serverFirstMessage(MECH, bytes("y,,n=,r=abc")))).startsWith("r=abcN,");
        assertThat(withoutTls.verifyClientFinal(bytes("c=eSws,r=abcN,p=" + PROOF)))
                .as("y,, is fine when we offered no -PLUS; c= must then be base64(\"y,,\")")
                .isInstanceOf(ScramSha256Server.Outcome.Failed.class);
    }

    @Test
    void aClientWithoutBindingMayUsePlainScramOverTls() {
        ScramSha256Client client = new ScramSha256Client("pencil");
        ScramSha256Server server = new ScramSha256Server(PENCIL, new byte[32]);
        byte[] serverFirst = server.serverFirstMessage(MECH, client.clientFirstMessage());
        assertThat(server.verifyClientFinal(client.clientFinalMessage(serverFirst)))
                .isInstanceOf(ScramSha256Server.Outcome.Authenticated.class);
    }

    @Test
    void mechanismAndGs2HeaderMustAgree() {
        assertViolation(() -> rfcServer().serverFirstMessage(PLUS, bytes("p=tls-server-end-point,,n=,r=a")),
                "client selected an invalid SASL authentication mechanism", null);
        assertViolation(() -> rfcServer().serverFirstMessage("SCRAM-SHA-1", bytes("n,,n=,r=a")),
                "client selected an invalid SASL authentication mechanism", null);
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("p=tls-server-end-point,,n=,r=a")),
                "The client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes "
                        + "channel binding data.");
        ScramSha256Server tls = new ScramSha256Server(PENCIL, new byte[32]);
        assertMalformed(() -> tls.serverFirstMessage(PLUS, bytes("n,,n=,r=a")), "The client selected "
                + "SCRAM-SHA-256-PLUS, but the SCRAM message does not include channel binding data.");
        assertViolation(() -> new ScramSha256Server(PENCIL, new byte[32]).serverFirstMessage(PLUS,
                bytes("p=tls-unique,,n=,r=a")), "unsupported SCRAM channel-binding type \"tls-unique\"", null);
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("x,,n=,r=a")),
                "Unexpected channel-binding flag \"x\".");
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("n;,n=,r=a")),
                "Comma expected, but found character \";\".");
    }

    @Test
    void authzidAndExtensionsAreRefused() {
        assertState(() -> rfcServer().serverFirstMessage(MECH, bytes("n,a=admin,n=,r=a")), "0A000",
                "client uses authorization identity, but it is not supported");
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("n,,m=ext,n=,r=a")),
                "The client requires an unsupported SCRAM extension.");
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("n,x,n=,r=a")),
                "Unexpected attribute \"x\" in client-first-message.");
    }

    @Test
    void attributesInTheWrongOrderOrMissing() {
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("n,,r=abc,n=user")),
                "Expected attribute \"n\" but found \"r\".");
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("n,,n=user")),
                "Expected attribute \"r\" but found \"0x00\".");
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("n,,n=user,r")),
                "Expected character \"=\" for attribute \"r\".");
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("n,,n=,r=a,1=x")),
                "Attribute expected, but found invalid character \"1\".");
        assertMalformed(() -> afterClientFirst().verifyClientFinal(bytes("r=" + NONCE + ",c=biws,p=" + PROOF)),
                "Expected attribute \"c\" but found \"r\".");
        assertMalformed(() -> afterClientFirst().verifyClientFinal(bytes("c=biws,p=" + PROOF)),
                "Expected attribute \"r\" but found \"p\".");
        assertMalformed(() -> afterClientFirst().verifyClientFinal(bytes("c=biws,r=" + NONCE)),
                "Attribute expected, but found invalid character \"0x00\".");
    }

    @Test
    void badNonces() {
        assertViolation(() -> rfcServer().serverFirstMessage(MECH, bytes("n,,n=,r=ab c")),
                "client nonce contains invalid characters", null);
        assertViolation(() -> rfcServer().serverFirstMessage(MECH, bytes("n,,n=,r=\u00e9t\u00e9")),
                "client nonce contains invalid characters", null);
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("n,,n=,r=")), "The client nonce is empty.");
        assertViolation(() -> afterClientFirst().verifyClientFinal(bytes("c=biws,r=" + CLIENT_NONCE + ",p=" + PROOF)),
                "invalid SCRAM response", "Nonce does not match.");
        assertViolation(() -> afterClientFirst().verifyClientFinal(bytes("c=biws,r=" + NONCE + "x,p=" + PROOF)),
                "invalid SCRAM response", "Nonce does not match.");
    }

    @Test
    void badProofsAndChannelBindingAttributes() {
        assertMalformed(() -> afterClientFirst().verifyClientFinal(bytes("c=biws,r=" + NONCE + ",p=not*base64")),
                "Malformed proof in client-final-message.");
        assertMalformed(() -> afterClientFirst().verifyClientFinal(bytes("c=biws,r=" + NONCE + ",p=AAAA")),
                "Malformed proof in client-final-message.");
        assertMalformed(() -> afterClientFirst().verifyClientFinal(bytes("c=biws,r=" + NONCE + ",p=" + PROOF + ",x=1")),
                "Garbage found at the end of client-final-message.");
        assertViolation(() -> afterClientFirst().verifyClientFinal(bytes("c=eSws,r=" + NONCE + ",p=" + PROOF)),
                "unexpected SCRAM channel-binding attribute in client-final-message", null);
        assertViolation(() -> afterClientFirst().verifyClientFinal(bytes("c=,r=" + NONCE + ",p=" + PROOF)),
                "unexpected SCRAM channel-binding attribute in client-final-message", null);
    }

    @Test
    void extensionsBeforeTheProofAreIgnoredButSigned() {
        ScramSha256Server server = afterClientFirst();
        assertThat(server.verifyClientFinal(bytes("c=biws,r=" + NONCE + ",x=ext,p=" + PROOF)))
                .as("the extension is part of the signed AuthMessage, so the RFC proof no longer verifies")
                .isInstanceOf(ScramSha256Server.Outcome.Failed.class);
    }

    @Test
    void messagesInTheWrongOrder() {
        assertMalformed(() -> rfcServer().verifyClientFinal(bytes("c=biws,r=" + NONCE + ",p=" + PROOF)),
                "Unexpected client-final-message: the exchange is not at that step.");
        ScramSha256Server server = afterClientFirst();
        assertMalformed(() -> server.serverFirstMessage(MECH, bytes("n,,n=user,r=" + CLIENT_NONCE)),
                "Unexpected client-first-message: the exchange is past that step.");
        assertMalformed(() -> server.verifyClientFinal(bytes("c=biws,r=" + NONCE + ",p=" + PROOF)),
                "Unexpected client-final-message: the exchange is not at that step.");
        ScramSha256Server done = afterClientFirst();
        done.verifyClientFinal(bytes("c=biws,r=" + NONCE + ",p=" + PROOF));
        assertMalformed(() -> done.verifyClientFinal(bytes("c=biws,r=" + NONCE + ",p=" + PROOF)),
                "Unexpected client-final-message: the exchange is not at that step.");
    }

    @Test
    void anExchangeThatFailedOnceCannotGoOn() {
        ScramSha256Server server = rfcServer();
        assertThatThrownBy(() -> server.serverFirstMessage(MECH, bytes("n,,n=,r=a b")));
        assertThatThrownBy(() -> server.serverFirstMessage(MECH, bytes("n,,n=,r=" + CLIENT_NONCE)))
                .hasMessage("malformed SCRAM message");
    }

    @Test
    void hostileSizesAreRefusedBeforeParsing() {
        byte[] huge = bytes("n,,n=,r=" + "A".repeat(1024 * 1024));
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, huge),
                "The message is " + huge.length + " bytes long, the limit is 2048.");
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, null), "The message is empty.");
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, new byte[0]), "The message is empty.");
        assertMalformed(() -> rfcServer().serverFirstMessage(MECH, bytes("n,,n=\0,r=abc")),
                "Message length does not match input length.");
        byte[] longProof = bytes("c=biws,r=" + NONCE + ",p=" + "A".repeat(4000));
        assertMalformed(() -> afterClientFirst().verifyClientFinal(longProof),
                "The message is " + longProof.length + " bytes long, the limit is 2048.");
    }

    @Test
    void numbersNearIntMaxInsideAttributesAreJustText() {
        String big = String.valueOf(Integer.MAX_VALUE);
        assertThat(text(rfcServer().serverFirstMessage(MECH, bytes("n,,n=" + big + ",r=" + big + ",i=" + big))))
                .isEqualTo("r=" + big + SERVER_NONCE + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    }

    @Test
    void aSaslInitialResponseClaimingNearlyTwoGigabytesIsRefusedWithoutAllocating() {
        for (int length : List.of(Integer.MAX_VALUE, Integer.MAX_VALUE - 8, -2)) {
            ByteBuf body = Unpooled.buffer();
            try {
                body.writeBytes(bytes("SCRAM-SHA-256\0")).writeInt(length).writeBytes(bytes("n,,n=,r=abc"));
                assertThatThrownBy(() -> SaslInitialResponse.decode(body)).isInstanceOfSatisfying(PgException.class,
                        e -> assertThat(e.sqlState()).isEqualTo("08P01"));
            } finally {
                body.release();
            }
        }
    }
}
