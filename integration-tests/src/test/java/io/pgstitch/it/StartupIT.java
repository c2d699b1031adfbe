package io.pgstitch.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The startup phase over a raw socket: hostile database IDs, protocol versions, SSL/GSS requests, framing
 * violations. Each refusal must be a proper ErrorResponse, close only that client, and leave the proxy
 * serving everyone else.
 */
class StartupIT extends ProxiedTest {

    static Stream<Arguments> hostileDatabaseIds() {
        return Stream.of(
                Arguments.of("64 bytes", utf8("a".repeat(64)), "42622"),
                Arguments.of("1000 bytes", utf8("tenant_a".repeat(125)), "42622"),
                Arguments.of("32 two-byte characters (64 bytes)", utf8("é".repeat(32)), "42622"),
                Arguments.of("single quote", utf8("tenant_a'; drop database tenant_a; --"), "3D000"),
                Arguments.of("double quote", utf8("tenant_a\""), "3D000"),
                Arguments.of("path traversal", utf8("../../etc/passwd"), "3D000"),
                Arguments.of("control character", utf8("tenant\u0001a"), "42602"),
                Arguments.of("newline", utf8("tenant_a\nLOG: forged"), "42602"),
                Arguments.of("invalid UTF-8", new byte[] {'t', (byte) 0xC3, (byte) 0x28, 'x'}, "22021"),
                Arguments.of("lone continuation byte", new byte[] {(byte) 0x80}, "22021"),
                Arguments.of("glob characters", utf8("org_*"), "3D000"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileDatabaseIds")
    void hostileDatabaseIdGetsACleanFatalError(String what, byte[] database, String sqlState) throws Exception {
        ByteArrayOutputStream parameters = new ByteArrayOutputStream();
        parameters.writeBytes(utf8("user\0postgres\0database\0"));
        parameters.writeBytes(database);
        parameters.write(0);
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.send(RawClient.startupPacket(196608, parameters.toByteArray()));
            RawClient.Message error = client.read();
            assertThat(error.type()).isEqualTo('E');
            assertThat(error.fields().get('S')).isEqualTo("FATAL");
            assertThat(error.sqlState()).isEqualTo(sqlState);
            assertThat(client.closedByServer()).isTrue();
        }
        assertProxyStillServes();
    }

    @Test
    void aNulInsideTheDatabaseNameEndsItLikePostgresDoes() throws Exception {
        // "tenant_a\0org_evil\0" is database=tenant_a followed by a parameter named org_evil with no value:
        // the packet is malformed (odd number of strings) and must be refused, never routed to org_*.
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.send(RawClient.startupPacket(196608, utf8("user\0postgres\0database\0tenant_a\0org_evil\0")));
            RawClient.Message reply = client.read();
            assertThat(reply.type()).isEqualTo('E');
            assertThat(reply.sqlState()).isEqualTo("08P01");
        }
        assertProxyStillServes();
    }

    @Test
    void withTlsDisabledSslAndGssEncRequestsAreDeclinedAndStartupContinues() throws Exception {
        String plaintextOnly = TestProxy.standardRoutes(cluster)
                .replace("listen: { host: 127.0.0.1, port: 0 }", "listen: { host: 127.0.0.1, port: 0, tls: { mode: disable } }");
        try (TestProxy plain = TestProxy.start(plaintextOnly); RawClient client = RawClient.connect(plain.port())) {
            client.send(ByteBuffer.allocate(8).putInt(8).putInt(80877104).array()); // GSSENCRequest
            assertThat(client.readByte()).isEqualTo('N');
            client.send(ByteBuffer.allocate(8).putInt(8).putInt(80877103).array()); // SSLRequest
            assertThat(client.readByte()).isEqualTo('N');
            client.sendStartup(Map.of("user", "postgres", "database", "tenant_a"));
            assertThat(client.read().type()).as("AuthenticationOk").isEqualTo('R');
            assertThat(client.readUntil('Z').body()).containsExactly('I');
        }
    }

    @Test
    void newerMinorVersionAndProtocolOptionsAreNegotiatedExactlyOnce() throws Exception {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", "postgres");
        parameters.put("database", "tenant_a");
        parameters.put("_pq_.compression", "on");
        parameters.put("_pq_.other", "1");
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.send(RawClient.startupPacket(3 << 16 | 9, RawClient.parameters(parameters)));
            List<Character> types = new ArrayList<>();
            RawClient.Message message;
            RawClient.Message negotiate = null;
            do {
                message = client.read();
                types.add(message.type());
                if (message.type() == 'v') {
                    negotiate = message;
                }
            } while (message.type() != 'Z');
            assertThat(types.stream().filter(t -> t == 'v')).hasSize(1);
            assertThat(types.get(0)).isEqualTo('v');
            ByteBuffer body = ByteBuffer.wrap(negotiate.body());
            assertThat(body.getInt()).as("newest minor version").isEqualTo(2);
            assertThat(body.getInt()).as("unrecognized options").isEqualTo(2);
            assertThat(new String(negotiate.body(), 8, negotiate.body().length - 8, StandardCharsets.UTF_8))
                    .isEqualTo("_pq_.compression\0_pq_.other\0");
        }
    }

    @Test
    void protocol32GetsALongCancelKey() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.send(RawClient.startupPacket(3 << 16 | 2,
                    RawClient.parameters(Map.of("user", "postgres", "database", "tenant_a"))));
            RawClient.Message key = client.readUntil('K');
            assertThat(key.body()).hasSize(4 + 32);
            client.readUntil('Z');
        }
    }

    @Test
    void protocol2IsRefused() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.send(RawClient.startupPacket(2 << 16, RawClient.parameters(Map.of("user", "postgres"))));
            RawClient.Message error = client.read();
            assertThat(error.sqlState()).isEqualTo("0A000");
            assertThat(error.message()).contains("unsupported frontend protocol 2.0");
        }
    }

    @Test
    void anOversizedStartupLengthIsAProtocolViolation() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.send(ByteBuffer.allocate(8).putInt(Integer.MAX_VALUE).putInt(196608).array());
            RawClient.Message error = client.read();
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(client.closedByServer()).isTrue();
        }
        assertProxyStillServes();
    }

    @Test
    void anUnknownMessageTypeAfterLoginClosesOnlyThatClient() throws Exception {
        try (Connection bystander = proxy.connect("tenant_a");
             RawClient client = RawClient.connect(proxy.port())) {
            client.sendStartup(Map.of("user", "postgres", "database", "tenant_a"));
            client.readUntil('Z');
            client.send('!', new byte[0]);
            RawClient.Message error = client.read();
            assertThat(error.sqlState()).isEqualTo("08P01");
            assertThat(client.closedByServer()).isTrue();
            try (ResultSet rs = bystander.createStatement().executeQuery("select 42")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        }
    }

    @Test
    void aMissingUserIsRefused() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            client.sendStartup(Map.of("database", "tenant_a"));
            assertThat(client.read().sqlState()).isEqualTo("28000");
        }
    }

    private static void assertProxyStillServes() throws Exception {
        try (Connection connection = proxy.connect("tenant_a");
             ResultSet rs = connection.createStatement().executeQuery("select tenant from whoami")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("tenant_a");
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aClientThatNeverSendsItsStartupPacketIsClosedAfterAuthTimeout() throws Exception {
        try (TestProxy impatient = TestProxy.start(TestProxy.standardRoutes(cluster)
                .replace("auth: { method: trust }", "auth: { method: trust, auth_timeout: 300ms }"));
             RawClient client = RawClient.connect(impatient.port())) {
            RawClient.Message error = client.read(); // blocks until the proxy gives up on us
            assertThat(error.sqlState()).isEqualTo("57014");
            assertThat(error.message()).isEqualTo("canceling authentication due to timeout");
            assertThat(client.closedByServer()).isTrue();
        }
    }
}
