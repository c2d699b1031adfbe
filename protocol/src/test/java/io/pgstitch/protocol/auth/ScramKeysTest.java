package io.pgstitch.protocol.auth;

import io.pgstitch.protocol.PgException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * SCRAM pass-through: the keys a server recovers from a client's proof log in to another server that stores the
 * same verifier, without the password.
 */
class ScramKeysTest {

    private static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");
    private static final ScramVerifier PENCIL = ScramVerifier.fromPassword("pencil", SALT, 4096);
    private static final List<String> PLAIN = List.of(ScramSha256Client.MECHANISM);

    /** Runs {@code client} against {@code server}; the server's outcome, the client having checked its signature. */
    private static ScramSha256Server.Outcome exchange(ScramSha256Client client, ScramSha256Server server) {
        byte[] serverFirst = server.serverFirstMessage(client.mechanism(), client.clientFirstMessage());
        ScramSha256Server.Outcome outcome = server.verifyClientFinal(client.clientFinalMessage(serverFirst));
        if (outcome instanceof ScramSha256Server.Outcome.Authenticated ok) {
            client.verifyServerFinal(ok.serverFinalMessage());
        }
        return outcome;
    }

    private static ScramKeys keysOfALogin(ScramSha256Client client, ScramSha256Server server) {
        ScramSha256Server.Outcome outcome = exchange(client, server);
        assertThat(outcome).isInstanceOf(ScramSha256Server.Outcome.Authenticated.class);
        return ((ScramSha256Server.Outcome.Authenticated) outcome).keys();
    }

    @Test
    void theServerRecoversTheClientKeyOfThePassword() {
        ScramKeys keys = keysOfALogin(new ScramSha256Client("pencil"), new ScramSha256Server(PENCIL, null));
        assertThat(keys).isEqualTo(ScramKeys.fromPassword("pencil", SALT, 4096));
        assertThat(keys.matches(PENCIL)).isTrue();
        assertThat(keys.storedKey()).isEqualTo(PENCIL.storedKey());
        assertThat(keys.serverKey()).isEqualTo(PENCIL.serverKey());
        assertThat(keys.salt()).isEqualTo(SALT);
        assertThat(keys.iterations()).isEqualTo(4096);
    }

    @Test
    void recoveredKeysLogInToAnotherServerWithTheSameVerifier() {
        ScramKeys keys = keysOfALogin(new ScramSha256Client("pencil"), new ScramSha256Server(PENCIL, null));
        ScramSha256Client passThrough = ScramSha256Client.withKeys(keys, PLAIN, null);
        assertThat(passThrough.mechanism()).isEqualTo(ScramSha256Client.MECHANISM);
        assertThat(passThrough.clientFirstMessage()).startsWith("n,,".getBytes(StandardCharsets.US_ASCII));
        ScramSha256Server shard = new ScramSha256Server(ScramVerifier.parse(PENCIL.encoded()), null);
        ScramSha256Server.Outcome outcome = exchange(passThrough, shard);
        assertThat(outcome).isInstanceOfSatisfying(ScramSha256Server.Outcome.Authenticated.class,
                ok -> assertThat(ok.keys()).isEqualTo(keys));
    }

    @Test
    void recoveredKeysLogInWithChannelBindingToAnotherCertificate() throws Exception {
        X509Certificate ours = TestCertificates.selfSigned("EC", "SHA256withECDSA");
        X509Certificate shards = TestCertificates.selfSigned("RSA", "SHA384withRSA");
        byte[] ourBinding = ChannelBinding.tlsServerEndPoint(ours);
        byte[] shardBinding = ChannelBinding.tlsServerEndPoint(shards);
        ScramSha256Server front = new ScramSha256Server(PENCIL, ourBinding);
        ScramKeys keys = keysOfALogin(ScramSha256Client.forMechanisms("pencil", front.mechanisms(), ourBinding),
                front);

        ScramSha256Server shard = new ScramSha256Server(PENCIL, shardBinding);
        ScramSha256Client passThrough = ScramSha256Client.withKeys(keys, shard.mechanisms(), shardBinding);
        assertThat(passThrough.mechanism()).isEqualTo(ScramSha256Client.MECHANISM_PLUS);
        assertThat(exchange(passThrough, shard)).isInstanceOf(ScramSha256Server.Outcome.Authenticated.class);

        // bound to the wrong certificate (a relay in the middle), the shard refuses the same keys
        ScramSha256Server other = new ScramSha256Server(PENCIL, shardBinding);
        ScramSha256Client relayed = ScramSha256Client.withKeys(keys, other.mechanisms(), ourBinding);
        assertThatThrownBy(() -> exchange(relayed, other)).isInstanceOfSatisfying(PgException.class,
                e -> assertThat(e.getMessage()).isEqualTo("SCRAM channel binding check failed"));
    }

    @Test
    void aShardWithAnotherSaltOrIterationCountIsRefusedBeforeAnyProof() {
        ScramKeys keys = ScramKeys.fromPassword("pencil", SALT, 4096);
        String[][] cases = {
                {"AAAAAAAAAAAAAAAAAAAAAA==", "4096", "salt differs"},
                {"W22ZaJ0SNY7soEsUEjb6gQ==", "8192", "iteration count 8192, pgstitch's 4096"},
                {"AAAAAAAAAAAAAAAAAAAAAA==", "10000", "salt differs; iteration count 10000, pgstitch's 4096"},
        };
        for (String[] c : cases) {
            ScramSha256Client client = ScramSha256Client.withKeys(keys, PLAIN, null, "nonce");
            client.clientFirstMessage();
            byte[] serverFirst = ("r=nonceXYZ,s=" + c[0] + ",i=" + c[1]).getBytes(StandardCharsets.US_ASCII);
            assertThatThrownBy(() -> client.clientFinalMessage(serverFirst)).as(c[2])
                    .isInstanceOfSatisfying(PgException.class, e -> {
                        assertThat(e.sqlState()).isEqualTo("08004");
                        assertThat(e.isFatal()).isTrue();
                        assertThat(e.getMessage()).isEqualTo(
                                "the shard's SCRAM verifier for this user differs from pgstitch's (" + c[2] + ")");
                        assertThat(e.hint()).contains("pg_authid.rolpassword");
                    });
        }
    }

    @Test
    void aShardWithAnotherPasswordUnderTheSameSaltRefusesTheProof() {
        ScramKeys keys = ScramKeys.fromPassword("pencil", SALT, 4096);
        ScramSha256Server shard = new ScramSha256Server(ScramVerifier.fromPassword("crayon", SALT, 4096), null);
        assertThat(exchange(ScramSha256Client.withKeys(keys, PLAIN, null), shard))
                .isInstanceOf(ScramSha256Server.Outcome.Failed.class);
    }

    @Test
    void aWrongServerKeyFailsTheServerSignature() {
        ScramKeys good = ScramKeys.fromPassword("pencil", SALT, 4096);
        byte[] serverKey = good.serverKey();
        serverKey[0] ^= 1;
        ScramKeys badServerKey = new ScramKeys(good.clientKey(), serverKey, SALT, 4096);
        assertThatThrownBy(() -> exchange(ScramSha256Client.withKeys(badServerKey, PLAIN, null),
                new ScramSha256Server(PENCIL, null)))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.getMessage()).contains("does not match"));
    }

    @Test
    void withKeysChoosesTheMechanismAsForMechanismsDoes() {
        ScramKeys keys = ScramKeys.fromPassword("pencil", SALT, 4096);
        byte[] binding = new byte[32];
        List<String> both = List.of(ScramSha256Client.MECHANISM_PLUS, ScramSha256Client.MECHANISM);
        assertThat(ScramSha256Client.withKeys(keys, both, binding).mechanism())
                .isEqualTo(ScramSha256Client.MECHANISM_PLUS);
        assertThat(ScramSha256Client.withKeys(keys, PLAIN, binding).clientFirstMessage())
                .startsWith("y,,".getBytes(StandardCharsets.US_ASCII));
        assertThat(ScramSha256Client.withKeys(keys, List.of("SCRAM-SHA-1"), null)).isNull();
    }

    @Test
    void keysArePrintedNowhere() {
        ScramKeys keys = keysOfALogin(new ScramSha256Client("pencil"), new ScramSha256Server(PENCIL, null));
        String clientKey = Base64.getEncoder().encodeToString(keys.clientKey());
        ScramSha256Server.Outcome outcome = exchange(new ScramSha256Client("pencil"),
                new ScramSha256Server(PENCIL, null));
        for (String printed : List.of(keys.toString(), outcome.toString())) {
            assertThat(printed).contains("keys hidden").doesNotContain(clientKey.substring(0, 8))
                    .doesNotContain("[B@");
        }
    }

    @Test
    void accessorsReturnCopiesAndLengthsAreChecked() {
        ScramKeys keys = ScramKeys.fromPassword("pencil", SALT, 4096);
        keys.clientKey()[0] ^= 1;
        keys.salt()[0] ^= 1;
        assertThat(keys).isEqualTo(ScramKeys.fromPassword("pencil", SALT, 4096));
        assertThatThrownBy(() -> new ScramKeys(new byte[31], new byte[32], SALT, 4096))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ScramKeys(new byte[32], new byte[32], new byte[0], 4096))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
