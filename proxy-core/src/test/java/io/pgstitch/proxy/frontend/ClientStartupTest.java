package io.pgstitch.proxy.frontend;

import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.frontend.StartupMessage;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClientStartupTest {

    private static StartupMessage startup(int version, String... keyValues) {
        Map<String, String> parameters = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            parameters.put(keyValues[i], keyValues[i + 1]);
        }
        return new StartupMessage(version, parameters);
    }

    @Test
    void passesSessionParametersOnButDecidesUserAndDatabaseItself() {
        ClientStartup startup = ClientStartup.of(startup(196608, "user", "alice", "database", "tenant_a",
                "application_name", "psql", "options", "-c search_path=x", "client_encoding", "UTF8"));
        assertThat(startup.user()).isEqualTo("alice");
        assertThat(startup.databaseId()).isEqualTo("tenant_a");
        assertThat(startup.sessionParameters()).containsExactly(Map.entry("application_name", "psql"),
                Map.entry("options", "-c search_path=x"), Map.entry("client_encoding", "UTF8"));
        assertThat(startup.negotiate()).isFalse();
        assertThat(startup.usesLongCancelKeys()).isFalse();
    }

    @Test
    void databaseDefaultsToTheUserName() {
        assertThat(ClientStartup.of(startup(196608, "user", "alice")).databaseId()).isEqualTo("alice");
    }

    @Test
    void version32IsSpokenWithoutNegotiation() {
        ClientStartup startup = ClientStartup.of(startup(3 << 16 | 2, "user", "u"));
        assertThat(startup.minorVersion()).isEqualTo(2);
        assertThat(startup.negotiate()).isFalse();
        assertThat(startup.usesLongCancelKeys()).isTrue();
    }

    @Test
    void newerMinorVersionsAndProtocolOptionsAreNegotiated() {
        ClientStartup startup = ClientStartup.of(startup(3 << 16 | 7, "user", "u", "_pq_.x", "1"));
        assertThat(startup.minorVersion()).isEqualTo(2);
        assertThat(startup.negotiate()).isTrue();
        assertThat(startup.unrecognizedOptions()).containsExactly("_pq_.x");
        assertThat(startup.sessionParameters()).isEmpty();

        ClientStartup options = ClientStartup.of(startup(196608, "user", "u", "_pq_.y", "1"));
        assertThat(options.minorVersion()).isZero();
        assertThat(options.negotiate()).isTrue();
    }

    @Test
    void refusals() {
        assertRefused(startup(2 << 16, "user", "u"), "0A000", "unsupported frontend protocol 2.0");
        assertRefused(startup(196608, "database", "d"), "28000", "no PostgreSQL user name");
        assertRefused(startup(196608, "user", "u", "replication", "database"), "0A000", "replication");
        assertRefused(startup(196608, "user", "u", "database", "x".repeat(64)), "42622", "64 bytes");
        assertRefused(startup(196608, "user", "u", "database", "a\u0007b"), "42602", "control character");
        assertRefused(startup(196608, "user", "u", "database", "bad\uFFFD"), "22021", "invalid byte sequence");
        assertThat(ClientStartup.of(startup(196608, "user", "u", "database", "x".repeat(63))).databaseId())
                .hasSize(63);
        assertThat(ClientStartup.of(startup(196608, "user", "u", "replication", "false")).databaseId())
                .isEqualTo("u");
    }

    private static void assertRefused(StartupMessage message, String sqlState, String messagePart) {
        assertThatThrownBy(() -> ClientStartup.of(message)).isInstanceOfSatisfying(PgException.class, e -> {
            assertThat(e.sqlState()).isEqualTo(sqlState);
            assertThat(e.isFatal()).isTrue();
            assertThat(e.getMessage()).contains(messagePart);
        });
    }
}
