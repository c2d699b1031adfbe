package io.pgstitch.it;

import io.pgstitch.it.support.FakeShard;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import java.util.stream.Stream;

import static io.pgstitch.it.support.FakeShard.concat;
import static io.pgstitch.it.support.FakeShard.message;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A shard that breaks the protocol: each malformed answer becomes a clear FATAL to the client naming the shard
 * (not a misleading 08006, not a bare ReadyForQuery), the backend is closed and nothing leaks (paranoid leak
 * detection runs with the tests). A fresh connection works again afterwards.
 */
class HostileShardIT {

    static Stream<Arguments> malformedAnswers() {
        return Stream.of(
                Arguments.of("ReadyForQuery with status Q", concat(FakeShard.oneRow(), FakeShard.readyForQuery('Q'))),
                Arguments.of("ReadyForQuery of 2 bytes", concat(FakeShard.oneRow(), message('Z', new byte[] {'I', 'I'}))),
                Arguments.of("ParameterStatus without its NUL", concat(message('S', "application_name\0x"),
                        FakeShard.oneRow(), FakeShard.readyForQuery('I'))),
                Arguments.of("ErrorResponse without its terminator", concat(message('E', "SERROR\0C42000\0Mbad"),
                        FakeShard.readyForQuery('I'))),
                Arguments.of("negative length", ByteBuffer.allocate(5).put((byte) 'D').putInt(-7).array()));
    }

    /**
     * A shard (or whoever answers in its place) that logs pgstitch in without asking for the password pgstitch
     * has, or asks for a method require_auth does not allow, is refused before any password is sent.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("unwantedLogins")
    void aShardThatSkipsOrDowngradesAuthenticationIsRefused(String what, String settings, byte[] login,
                                                             String message) throws Exception {
        try (FakeShard shard = new FakeShard(login, sql -> concat(FakeShard.oneRow(), FakeShard.readyForQuery('I')));
             TestProxy proxy = TestProxy.start("""
                     listen: { host: 127.0.0.1, port: 0 }
                     shards:
                       hostile: { host: 127.0.0.1, port: %d, user: app, password: secret %s }
                     default_route: hostile
                     """.formatted(shard.port(), settings))) {
            assertThatThrownBy(() -> proxy.connect("postgres").close()).as(what)
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("08001");
                        assertThat(e.getMessage()).contains("shard \"hostile\"").contains(message);
                    });
        }
    }

    static Stream<Arguments> unwantedLogins() {
        byte[] md5Request = message('R', ByteBuffer.allocate(8).putInt(5).putInt(0x01020304).array());
        byte[] cleartextRequest = message('R', ByteBuffer.allocate(4).putInt(3).array());
        return Stream.of(
                Arguments.of("AuthenticationOk unasked", "", FakeShard.trustingLogin(), "method \"none\""),
                Arguments.of("md5 where only SCRAM is allowed", ", require_auth: scram-sha-256", md5Request,
                        "method \"md5\""),
                Arguments.of("cleartext refused by !password", ", require_auth: \"!password\"", cleartextRequest,
                        "method \"password\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedAnswers")
    void aMalformedAnswerIsAFatalErrorNamingTheShard(String what, byte[] answer) throws Exception {
        try (FakeShard shard = new FakeShard(FakeShard.trustingLogin(),
                sql -> sql.equals("select broken") ? answer : concat(FakeShard.oneRow(), FakeShard.readyForQuery('I')));
             TestProxy proxy = TestProxy.start("""
                     listen: { host: 127.0.0.1, port: 0 }
                     shards:
                       hostile: { host: 127.0.0.1, port: %d, user: postgres }
                     default_route: hostile
                     """.formatted(shard.port()))) {
            Properties simple = new Properties();
            simple.setProperty("preferQueryMode", "simple"); // the fake shard answers Query messages only
            try (Connection connection = proxy.connect("postgres", simple)) {
                assertThatThrownBy(() -> connection.createStatement().execute("select broken"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).as(what).isIn("08P01", "08006");
                            assertThat(e.getMessage()).as(what).contains("shard \"hostile\"");
                        });
                assertThat(connection.isValid(2)).as("the session ended").isFalse();
            }
            try (Connection again = proxy.connect("postgres", simple)) {
                assertThat(again.createStatement().execute("select 1")).as("a new session works").isTrue();
            }
        }
    }
}
