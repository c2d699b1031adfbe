package io.pgstitch.proxy.auth;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.pgstitch.conf.AuthMethod;
import io.pgstitch.conf.UsersFile;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.auth.Md5Password;
import io.pgstitch.protocol.auth.ScramSha256Client;
import io.pgstitch.protocol.auth.ScramVerifier;
import io.pgstitch.protocol.backend.AuthenticationCleartextPassword;
import io.pgstitch.protocol.backend.AuthenticationMd5Password;
import io.pgstitch.protocol.backend.AuthenticationSasl;
import io.pgstitch.protocol.backend.AuthenticationSaslContinue;
import io.pgstitch.protocol.backend.AuthenticationSaslFinal;
import io.pgstitch.protocol.backend.BackendMessage;
import io.pgstitch.protocol.frontend.FrontendMessage;
import io.pgstitch.protocol.frontend.PasswordMessage;
import io.pgstitch.protocol.frontend.SaslInitialResponse;
import io.pgstitch.protocol.frontend.SaslResponse;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The server side of each method against the protocol module's own clients, and which challenge whom. */
class LoginExchangeTest {

    private static final byte[] MOCK_SECRET = new byte[32];
    private static final byte[] BINDING = new byte[32]; // stands for tls-server-end-point of our certificate
    private final List<String> counted = new ArrayList<>();

    private static UsersSource.Users users(String text) throws Exception {
        return UsersSource.Users.of(UsersFile.parse(text, Path.of("users.txt")), MOCK_SECRET);
    }

    private static final String SCRAM_USERS = """
            "alice" "%s"
            "bob" "%s"
            "carol" "carol-pw"
            """.formatted(ScramVerifier.fromPassword("alice-pw").encoded(), Md5Password.hash("bob", "bob-pw"));

    private LoginExchange start(AuthMethod method, String user, UsersSource.Users users, byte[] binding) {
        return LoginExchange.start(method, user, users == null ? LoginExchange.Known.NOBODY : users.known(user),
                MOCK_SECRET, binding, new SecureRandom(),
                (mechanism, outcome) -> counted.add(mechanism + " " + outcome));
    }

    /** The body of a client message, as the session hands it over. */
    private static BackendMessage send(LoginExchange exchange, FrontendMessage message) {
        ByteBuf frame = message.encode(UnpooledByteBufAllocator.DEFAULT);
        try {
            return exchange.receive(frame.skipBytes(5));
        } finally {
            frame.release();
        }
    }

    /** Runs a SCRAM exchange as libpq would; returns whether it ended authenticated. */
    private boolean scram(LoginExchange exchange, String password, byte[] binding) {
        AuthenticationSasl offer = (AuthenticationSasl) exchange.request();
        ScramSha256Client client = ScramSha256Client.forMechanisms(password, offer.mechanisms(), binding);
        AuthenticationSaslContinue serverFirst = (AuthenticationSaslContinue) send(exchange,
                new SaslInitialResponse(client.mechanism(), client.clientFirstMessage()));
        try {
            AuthenticationSaslFinal last = (AuthenticationSaslFinal) send(exchange,
                    new SaslResponse(client.clientFinalMessage(serverFirst.data())));
            client.verifyServerFinal(last.data()); // the server proved it knows the secret too
            return exchange.authenticated();
        } catch (PgException e) {
            if (!"28P01".equals(e.sqlState())) {
                throw e;
            }
            assertThat(e.getMessage()).isEqualTo("password authentication failed for user \"" + userOf(e) + "\"");
            return false;
        }
    }

    private static String userOf(PgException e) {
        String message = e.getMessage();
        return message.substring(message.indexOf('"') + 1, message.lastIndexOf('"'));
    }

    @Test
    void trustNeedsNothing() throws Exception {
        LoginExchange trust = start(AuthMethod.TRUST, "anyone", null, null);
        assertThat(trust.authenticated()).isTrue();
        assertThat(trust.request()).isNull();
        assertThat(counted).containsExactly("trust ok");
    }

    @Test
    void scramWithAStoredSecretOrAPlaintextOne() throws Exception {
        UsersSource.Users users = users(SCRAM_USERS);
        assertThat(scram(start(AuthMethod.SCRAM_SHA_256, "alice", users, null), "alice-pw", null)).isTrue();
        assertThat(scram(start(AuthMethod.SCRAM_SHA_256, "alice", users, null), "wrong", null)).isFalse();
        assertThat(scram(start(AuthMethod.SCRAM_SHA_256, "carol", users, null), "carol-pw", null)).isTrue();
        assertThat(users.scramVerifier("carol").salt()).as("derived when read, with an unknown user's salt")
                .isEqualTo(ScramVerifier.mockSalt(MOCK_SECRET, "carol"));
        assertThat(counted).containsExactly("scram-sha-256 ok", "scram-sha-256 failed", "scram-sha-256 ok");
    }

    @Test
    void withTlsPlusIsOfferedFirstAndBindsTheProof() throws Exception {
        UsersSource.Users users = users(SCRAM_USERS);
        LoginExchange plus = start(AuthMethod.SCRAM_SHA_256, "alice", users, BINDING);
        assertThat(((AuthenticationSasl) plus.request()).mechanisms())
                .containsExactly("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256");
        assertThat(scram(plus, "alice-pw", BINDING)).isTrue();
        assertThat(plus.mechanism()).isEqualTo("scram-sha-256-plus");
        // a man in the middle has another certificate, so the client binds to other data
        byte[] other = new byte[32];
        other[0] = 1;
        assertThatThrownBy(() -> scram(start(AuthMethod.SCRAM_SHA_256, "alice", users, BINDING), "alice-pw", other))
                .isInstanceOfSatisfying(PgException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("28000");
                    assertThat(e.getMessage()).isEqualTo("SCRAM channel binding check failed");
                });
    }

    @Test
    void unknownUsersAndMd5SecretsFailScramAtTheEnd() throws Exception {
        UsersSource.Users users = users(SCRAM_USERS);
        assertThat(scram(start(AuthMethod.SCRAM_SHA_256, "nobody", users, null), "", null)).isFalse();
        assertThat(scram(start(AuthMethod.SCRAM_SHA_256, "bob", users, null), "bob-pw", null)).isFalse();
        assertThat(counted).containsExactly("scram-sha-256 failed", "scram-sha-256 failed");
    }

    @Test
    void md5ChallengesMd5AndPlaintextSecretsAndAsksScramSecretsForScram() throws Exception {
        UsersSource.Users users = users(SCRAM_USERS);
        LoginExchange md5 = start(AuthMethod.MD5, "bob", users, null);
        byte[] salt = ((AuthenticationMd5Password) md5.request()).salt();
        assertThat(send(md5, new PasswordMessage(Md5Password.encode("bob", "bob-pw", salt)))).isNull();
        assertThat(md5.authenticated()).isTrue();

        LoginExchange plain = start(AuthMethod.MD5, "carol", users, null);
        byte[] carolSalt = ((AuthenticationMd5Password) plain.request()).salt();
        assertThatThrownBy(() -> send(plain, new PasswordMessage(Md5Password.encode("carol", "nope", carolSalt))))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.sqlState()).isEqualTo("28P01"));

        assertThat(start(AuthMethod.MD5, "alice", users, null).request()).isInstanceOf(AuthenticationSasl.class);
        assertThat(scram(start(AuthMethod.MD5, "alice", users, null), "alice-pw", null)).isTrue();
    }

    @Test
    void anUnknownUserGetsTheChallengeMostUsersGet() throws Exception {
        assertThat(start(AuthMethod.MD5, "nobody", users(SCRAM_USERS), null).request())
                .isInstanceOf(AuthenticationMd5Password.class); // alice, bob, carol: one SCRAM secret of three
        UsersSource.Users mostlyScram = users(SCRAM_USERS + "\"dave\" \"%s\"\n\"erin\" \"%s\"\n".formatted(
                ScramVerifier.fromPassword("d").encoded(), ScramVerifier.fromPassword("e").encoded()));
        assertThat(start(AuthMethod.MD5, "nobody", mostlyScram, null).request())
                .isInstanceOf(AuthenticationSasl.class); // three of five
        assertThat(start(AuthMethod.MD5, "carol", mostlyScram, null).request())
                .as("a plaintext secret can answer either: it gets what an unknown user gets")
                .isInstanceOf(AuthenticationSasl.class);
        assertThat(scram(start(AuthMethod.MD5, "carol", mostlyScram, null), "carol-pw", null)).isTrue();
    }

    @Test
    void cleartextAgainstEveryKindOfSecret() throws Exception {
        UsersSource.Users users = users(SCRAM_USERS);
        for (String[] login : new String[][] {{"alice", "alice-pw"}, {"bob", "bob-pw"}, {"carol", "carol-pw"}}) {
            LoginExchange cleartext = start(AuthMethod.PASSWORD, login[0], users, null);
            assertThat(cleartext.request()).isSameAs(AuthenticationCleartextPassword.INSTANCE);
            send(cleartext, new PasswordMessage(login[1]));
            assertThat(cleartext.authenticated()).as(login[0]).isTrue();
        }
        LoginExchange unknown = start(AuthMethod.PASSWORD, "nobody", users, null);
        assertThatThrownBy(() -> send(unknown, new PasswordMessage("x")))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.getMessage())
                        .isEqualTo("password authentication failed for user \"nobody\""));
    }

    @Test
    void aMessageOutOfTurnIsAProtocolViolation() throws Exception {
        LoginExchange sasl = start(AuthMethod.SCRAM_SHA_256, "alice", users(SCRAM_USERS), null);
        // a PasswordMessage where SASLInitialResponse belongs: no Int32 length after the "mechanism"
        assertThatThrownBy(() -> send(sasl, new PasswordMessage("hunter2")))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
        assertThat(counted).containsExactly("scram-sha-256 invalid");
        assertThatThrownBy(() -> send(sasl, new PasswordMessage("again")))
                .as("an exchange that failed once cannot go on")
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
        assertThat(sasl.unexpected((byte) 'Q').getMessage()).isEqualTo("expected SASL response, got message type Q");
    }
}
