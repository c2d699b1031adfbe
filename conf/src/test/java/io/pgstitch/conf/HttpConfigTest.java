package io.pgstitch.conf;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class HttpConfigTest {

    private static final String BASE = """
            shards:
              shard1: { host: 127.0.0.1 }
            """;

    @Test
    void absentIsOff() throws ConfigException {
        assertThat(ConfigLoaderTest.parse(BASE).http()).isNull();
    }

    @Test
    void defaults() throws ConfigException {
        HttpConfig http = ConfigLoaderTest.parse(BASE + "http: {}\n").http();
        assertThat(http.host()).isEqualTo("127.0.0.1");
        assertThat(http.port()).isEqualTo(8080);
        assertThat(http.tls()).isFalse();
        assertThat(http.limits()).isEqualTo(HttpConfig.Limits.defaults());
        assertThat(http.pingInterval()).isEqualTo(Duration.ofSeconds(30));
        assertThat(http.tokens()).isEmpty();
    }

    @Test
    void everySetting() throws ConfigException {
        HttpConfig http = ConfigLoaderTest.parse("""
                listen: { tls: { mode: prefer } }
                http:
                  host: 0.0.0.0
                  port: 8443
                  tls: true
                  limits:
                    max_request_bytes: 4096
                    max_rows: 50
                    max_concurrent_requests: 3
                    websocket_idle_timeout: 90s
                  ping_interval: 10s
                  tokens:
                    alice: ["${SHARD1_PASSWORD}-alice-token-1", alice-token-number-two]
                    bob: bob-token-0123456789
                  allowed_origins: ["https://dashboard.example.com", "http://localhost:3000"]
                """ + BASE).http();
        assertThat(http.host()).isEqualTo("0.0.0.0");
        assertThat(http.port()).isEqualTo(8443);
        assertThat(http.tls()).isTrue();
        assertThat(http.limits()).isEqualTo(new HttpConfig.Limits(4096, 50, 3, Duration.ofSeconds(90)));
        assertThat(http.pingInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(http.tokens()).isEqualTo(Map.of("s3cret-alice-token-1", "alice",
                "alice-token-number-two", "alice", "bob-token-0123456789", "bob"));
        assertThat(http.userOfToken("bob-token-0123456789")).isEqualTo("bob");
        assertThat(http.userOfToken("nobody")).isNull();
        assertThat(http.toString()).doesNotContain("token-0123456789").contains("tokens=3");
        assertThat(http.allowedOrigins()).containsExactly("https://dashboard.example.com", "http://localhost:3000");
    }

    @Test
    void pagesOfTheApisOwnOriginAndOfAllowedOnesMayCallIt() throws ConfigException {
        HttpConfig http = ConfigLoaderTest.parse(BASE + "http: { allowed_origins: [\"https://app.example\"] }\n")
                .http();
        assertThat(http.allowsOrigin(null, "127.0.0.1:8080")).as("not a browser").isTrue();
        assertThat(http.allowsOrigin("http://127.0.0.1:8080", "127.0.0.1:8080")).as("its own").isTrue();
        assertThat(http.allowsOrigin("https://app.example", "127.0.0.1:8080")).as("allowed").isTrue();
        assertThat(http.allowsOrigin("https://evil.example", "127.0.0.1:8080")).isFalse();
        assertThat(http.allowsOrigin("http://127.0.0.1:9999", "127.0.0.1:8080")).as("another port").isFalse();
        assertThat(http.allowsOrigin("null", "127.0.0.1:8080")).as("a sandboxed page").isFalse();
        assertThat(ConfigLoaderTest.parse(BASE + "http: { allowed_origins: [\"*\"] }\n").http()
                .allowsOrigin("https://evil.example", "127.0.0.1:8080")).isTrue();
    }

    @Test
    void problemsNameTheirPath() {
        assertThat(ConfigLoaderTest.problems(BASE + """
                listen: { tls: { mode: disable } }
                http:
                  host: 10.0.0.5
                  port: 70000
                  tls: true
                  colour: blue
                  limits: { max_rows: 0, websocket_idle_timeout: soon, max_requests: 3 }
                  tokens:
                    alice: short
                    bob: [bob-token-0123456789, "has a space in it!!"]
                    carol: bob-token-0123456789
                    dave: { token: x }
                  allowed_origins: [https://example.com/app]
                """)).containsExactlyInAnyOrder(
                "http.colour: unknown setting (expected one of: host, port, tls, allow_plaintext, limits, ping_interval, "
                        + "tokens, allowed_origins)",
                "http.allowed_origins[0]: \"https://example.com/app\" is not an origin (scheme://host[:port], without "
                        + "a path, as a browser's Origin header says it) or *",
                "http.tls: true serves the certificate of listen.tls, whose mode is disable (set listen.tls.mode "
                        + "and its cert and key)",
                "http.port: must be between 0 and 65535, got 70000",
                "http.limits.max_requests: unknown setting (expected one of: max_request_bytes, max_rows, "
                        + "max_concurrent_requests, websocket_idle_timeout)",
                "http.limits.max_rows: must be between 1 and 100000000, got 0",
                "http.limits.websocket_idle_timeout: must be a positive duration such as 250ms, 30s, 15m or 2h, "
                        + "got \"soon\"",
                "http.tokens.alice: a token must have at least 16 characters, got 5",
                "http.tokens.bob[1]: a token may use only printable ASCII characters without spaces",
                "http.tokens.carol: the same token is given to \"bob\" (a token names one user)",
                "http.tokens.dave: must be a token or a list of tokens");
    }

    @Test
    void plainHttpOnlyOnLoopbackUnlessAllowed() throws ConfigException {
        assertThat(ConfigLoaderTest.problems(BASE + "http: { host: 0.0.0.0 }\n")).containsExactly(
                "http.host: 0.0.0.0 is not a loopback address, so http.tls must be true (HTTP Basic passwords and "
                        + "tokens would cross the network in the clear); behind a TLS-terminating proxy set "
                        + "http.allow_plaintext: true");
        assertThat(ConfigLoaderTest.parse(BASE + "http: { host: 0.0.0.0, allow_plaintext: true }\n").http()
                .allowPlaintext()).isTrue();
        assertThat(ConfigLoaderTest.parse(BASE + "http: { host: localhost }\n").http().host())
                .isEqualTo("localhost");
    }

    @Test
    void unsetTokenVariableIsNamed() {
        assertThat(ConfigLoaderTest.problems(BASE + "http: { tokens: { alice: \"${NOT_SET}\" } }\n"))
                .containsExactlyInAnyOrder("http.tokens.alice: environment variable NOT_SET is not set",
                        "http.tokens.alice: a token must have at least 16 characters, got 0 (an unset variable "
                                + "expands to nothing?)");
    }
}
