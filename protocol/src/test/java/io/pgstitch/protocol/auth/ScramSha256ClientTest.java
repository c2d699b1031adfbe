package io.pgstitch.protocol.auth;

import io.pgstitch.protocol.PgException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScramSha256ClientTest {

    // RFC 7677 section 3: user "user", password "pencil"
    private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
    private static final String SERVER_FIRST =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void rfc7677Vector() {
        // PostgreSQL's client-first carries an empty user name ("n=,"), the RFC's "n=user,": so the proof
        // differs from the RFC's; the server signature check below proves the key derivation matches.
        ScramSha256Client client = new ScramSha256Client("pencil", CLIENT_NONCE);
        assertThat(new String(client.clientFirstMessage(), StandardCharsets.UTF_8))
                .isEqualTo("n,,n=,r=" + CLIENT_NONCE);
        String clientFinal = new String(client.clientFinalMessage(utf8(SERVER_FIRST)), StandardCharsets.UTF_8);
        assertThat(clientFinal).startsWith("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=");
    }

    @Test
    void saltedPasswordAndKeysMatchTheRfc() {
        byte[] salted = ScramFunctions.hi(utf8("pencil"),
                java.util.Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        // with the RFC's auth message the server signature is "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        String authMessage = "n=user,r=" + CLIENT_NONCE + "," + SERVER_FIRST
                + ",c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        byte[] serverSignature = ScramFunctions.hmac(ScramFunctions.hmac(salted, "Server Key"), authMessage);
        assertThat(java.util.Base64.getEncoder().encodeToString(serverSignature))
                .isEqualTo("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    @Test
    void aServerNonceThatDoesNotExtendOursIsRefused() {
        ScramSha256Client client = new ScramSha256Client("pencil", CLIENT_NONCE);
        client.clientFirstMessage();
        assertThatThrownBy(() -> client.clientFinalMessage(utf8("r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
    }

    @Test
    void absurdIterationCountsAreRefused() {
        ScramSha256Client client = new ScramSha256Client("pencil", CLIENT_NONCE);
        client.clientFirstMessage();
        assertThatThrownBy(() -> client.clientFinalMessage(utf8("r=" + CLIENT_NONCE + "x,s=AAAA,i=2147483647")))
                .hasMessageContaining("iteration count");
        assertThatThrownBy(() -> client.clientFinalMessage(utf8("r=" + CLIENT_NONCE + "x,s=AAAA,i=0")))
                .hasMessageContaining("iteration count");
    }

    @Test
    void aWrongServerSignatureIsRefused() {
        ScramSha256Client client = new ScramSha256Client("pencil", CLIENT_NONCE);
        client.clientFirstMessage();
        client.clientFinalMessage(utf8(SERVER_FIRST));
        assertThatThrownBy(() -> client.verifyServerFinal(utf8("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")))
                .hasMessageContaining("does not match");
        assertThatThrownBy(() -> client.verifyServerFinal(utf8("e=invalid-proof")))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.sqlState()).isEqualTo("28P01"));
    }

    @Test
    void plusSendsTheBindingDataInTheChannelBindingAttribute() {
        byte[] binding = {1, 2, 3, (byte) 0xff};
        ScramSha256Client client = new ScramSha256Client("pencil", binding, CLIENT_NONCE);
        assertThat(client.mechanism()).isEqualTo("SCRAM-SHA-256-PLUS");
        assertThat(new String(client.clientFirstMessage(), StandardCharsets.UTF_8))
                .isEqualTo("p=tls-server-end-point,,n=,r=" + CLIENT_NONCE);
        String clientFinal = new String(client.clientFinalMessage(utf8(SERVER_FIRST)), StandardCharsets.UTF_8);
        byte[] header = utf8("p=tls-server-end-point,,");
        byte[] expected = java.util.Arrays.copyOf(header, header.length + binding.length);
        System.arraycopy(binding, 0, expected, header.length, binding.length);
        assertThat(clientFinal).startsWith("c=" + java.util.Base64.getEncoder().encodeToString(expected) + ",r=");
    }

    @Test
    void forMechanismsChoosesAsLibpqDoes() {
        byte[] binding = new byte[32];
        List<String> both = List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256");
        List<String> plain = List.of("SCRAM-SHA-256");
        assertThat(ScramSha256Client.forMechanisms("p", both, binding).mechanism()).isEqualTo("SCRAM-SHA-256-PLUS");
        assertThat(ScramSha256Client.forMechanisms("p", both, null).clientFirstMessage()).startsWith(utf8("n,,"));
        ScramSha256Client withoutOffer = ScramSha256Client.forMechanisms("p", plain, binding);
        assertThat(withoutOffer.mechanism()).isEqualTo("SCRAM-SHA-256");
        assertThat(withoutOffer.clientFirstMessage()).startsWith(utf8("y,,"));
        assertThat(ScramSha256Client.forMechanisms("p", List.of("SCRAM-SHA-1"), binding)).isNull();
    }

    @Test
    void thePasswordGoesThroughSaslPrepAsInLibpq() {
        byte[] salt = java.util.Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
        // PostgreSQL stores the verifier of the prepared password; libpq prepares what the user typed
        ScramVerifier stored = ScramVerifier.fromPassword("pass word", salt, 4096);
        for (String typed : List.of("pass\u00A0word", "pass\u2003word", "pass \u00ADword")) {
            ScramSha256Client client = new ScramSha256Client(typed);
            ScramSha256Server server = new ScramSha256Server(stored, null);
            byte[] serverFirst = server.serverFirstMessage(client.mechanism(), client.clientFirstMessage());
            assertThat(server.verifyClientFinal(client.clientFinalMessage(serverFirst))).as(typed)
                    .isInstanceOf(ScramSha256Server.Outcome.Authenticated.class);
        }
    }
}
