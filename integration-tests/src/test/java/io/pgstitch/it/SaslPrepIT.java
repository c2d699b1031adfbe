package io.pgstitch.it;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgstitch.protocol.auth.ScramSha256Client;
import io.pgstitch.protocol.auth.ScramVerifier;
import io.pgstitch.protocol.backend.Authentication;
import io.pgstitch.protocol.backend.AuthenticationOk;
import io.pgstitch.protocol.backend.AuthenticationSasl;
import io.pgstitch.protocol.backend.AuthenticationSaslContinue;
import io.pgstitch.protocol.backend.AuthenticationSaslFinal;
import io.pgstitch.protocol.frontend.FrontendMessage;
import io.pgstitch.protocol.frontend.SaslInitialResponse;
import io.pgstitch.protocol.frontend.SaslResponse;
import io.pgstitch.proxy.postgres.LocalPostgres;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SASLprep against a real PostgreSQL: the server builds each role's SCRAM verifier from a password that SASLprep
 * changes (or refuses, so that the raw bytes count), with its own pg_saslprep. pgstitch must compute the same
 * verifier from the same password, and its SCRAM client must log in with that password, alone over a socket and
 * as pgstitch logging in to a shard. Without SASLprep in pgstitch every case but the last fails.
 */
class SaslPrepIT {

    private static final String SUPERUSER_PASSWORD = "saslprep-super";
    private static LocalPostgres server;

    /** A role, the password it is given, and what SASLprep makes of it (what the server really hashes). */
    record Case(String role, String password, String prepared) {
        @Override
        public String toString() {
            return role;
        }
    }

    static List<Case> cases() {
        return List.of(
                new Case("nbsp", "pass\u00A0word", "pass word"), // non-ASCII space, mapped to ' '
                new Case("decomposed", "a\u0308-pw", "\u00E4-pw"), // a + COMBINING DIAERESIS, NFKC composes
                new Case("soft_hyphen", "pass\u00ADword", "password"), // mapped to nothing
                new Case("bidi", "\u0627a-pw", "\u0627a-pw")); // RandALCat with LCat: refused, raw bytes
    }

    @BeforeAll
    static void start() throws Exception {
        server = LocalPostgres.builder(PostgresBinaries.resolve()).name("saslprep").password(SUPERUSER_PASSWORD)
                .hostAuth("scram-sha-256").start();
        try (Connection connection = superuser(); Statement statement = connection.createStatement()) {
            statement.execute("SET password_encryption = 'scram-sha-256'");
            for (Case c : cases()) {
                statement.execute("CREATE ROLE " + c.role() + " LOGIN PASSWORD '" + c.password().replace("'", "''")
                        + "'");
            }
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static Connection superuser() throws SQLException {
        return DriverManager.getConnection(server.jdbcUrl("postgres"), "postgres", SUPERUSER_PASSWORD);
    }

    private static String rolpassword(String role) throws SQLException {
        try (Connection connection = superuser();
             PreparedStatement query = connection.prepareStatement(
                     "select rolpassword from pg_authid where rolname = ?")) {
            query.setString(1, role);
            try (ResultSet rs = query.executeQuery()) {
                assertThat(rs.next()).as("role %s exists", role).isTrue();
                return rs.getString(1);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void theVerifierIsPostgresOwn(Case c) throws Exception {
        String stored = rolpassword(c.role());
        ScramVerifier verifier = ScramVerifier.parse(stored);
        assertThat(ScramVerifier.fromPassword(c.password(), verifier.salt(), verifier.iterations()).encoded())
                .isEqualTo(stored);
        // and the server did prepare the password: the prepared text has the same verifier
        assertThat(ScramVerifier.fromPassword(c.prepared(), verifier.salt(), verifier.iterations()).encoded())
                .isEqualTo(stored);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void ourScramClientLogsIn(Case c) throws Exception {
        assertThat(login(c.role(), c.password())).isNull();
    }

    @Test
    void aWrongPasswordIsRefusedByTheSameExchange() throws Exception {
        assertThat(login("nbsp", "pass\u00A0w0rd")).isEqualTo("28P01");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void pgstitchLogsInToAShardWithThatPassword(Case c) throws Exception {
        String yaml = """
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  locked: { host: 127.0.0.1, port: %d, user: %s, password: "%s" }
                default_route: locked
                """.formatted(server.port(), c.role(), yamlEscaped(c.password()));
        try (TestProxy proxy = TestProxy.start(yaml);
             Connection connection = proxy.connect("postgres");
             ResultSet rs = connection.createStatement().executeQuery("select current_user")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(c.role());
        }
    }

    /** Every non-ASCII character as a YAML double-quoted {@code \\uXXXX} escape: the file stays ASCII. */
    private static String yamlEscaped(String text) {
        StringBuilder out = new StringBuilder();
        text.chars().forEach(ch -> out.append(ch < 0x80 ? String.valueOf((char) ch) : String.format("\\u%04X", ch)));
        return out.toString();
    }

    /**
     * Logs in as {@code role} over a plain socket, driving {@link ScramSha256Client} by hand: StartupMessage,
     * AuthenticationSASL, SASLInitialResponse, AuthenticationSASLContinue, SASLResponse, AuthenticationSASLFinal
     * (whose signature the client checks), AuthenticationOk.
     *
     * @return null when logged in, else the SQLSTATE of the server's ErrorResponse
     */
    private static String login(String role, String password) throws IOException {
        try (RawClient client = RawClient.connect(server.port())) {
            client.sendStartup(Map.of("user", role, "database", "postgres"));
            RawClient.Message first = client.read();
            AuthenticationSasl sasl = (AuthenticationSasl) authentication(first);
            ScramSha256Client scram = ScramSha256Client.forMechanisms(password, sasl.mechanisms(), null);
            send(client, new SaslInitialResponse(scram.mechanism(), scram.clientFirstMessage()));
            AuthenticationSaslContinue serverFirst = (AuthenticationSaslContinue) authentication(client.read());
            send(client, new SaslResponse(scram.clientFinalMessage(serverFirst.data())));
            RawClient.Message answer = client.read();
            if (answer.type() == 'E') {
                return answer.sqlState();
            }
            scram.verifyServerFinal(((AuthenticationSaslFinal) authentication(answer)).data());
            assertThat(authentication(client.read())).isSameAs(AuthenticationOk.INSTANCE);
            client.readUntil('Z');
            return null;
        }
    }

    private static Authentication authentication(RawClient.Message message) {
        assertThat(message.type()).as("an Authentication message, not %s", message.fields()).isEqualTo('R');
        ByteBuf body = Unpooled.wrappedBuffer(message.body());
        try {
            return Authentication.decode(body);
        } finally {
            body.release();
        }
    }

    private static void send(RawClient client, FrontendMessage message) throws IOException {
        ByteBuf out = Unpooled.buffer();
        try {
            message.encode(out);
            client.send(ByteBufUtil.getBytes(out));
        } finally {
            out.release();
        }
    }
}
