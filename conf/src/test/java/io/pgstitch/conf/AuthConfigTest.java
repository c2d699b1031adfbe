package io.pgstitch.conf;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class AuthConfigTest {

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    @Test
    void anEmptyRuleMatchesEverything() throws Exception {
        AuthRule any = new AuthRule(List.of(), List.of(), null, null, AuthMethod.TRUST);
        assertThat(any.matches("db", "u", ip("203.0.113.1"), false)).isTrue();
        assertThat(any.matches("", "", ip("::1"), true)).isTrue();
    }

    @Test
    void everyConditionMustHold() throws Exception {
        AuthRule rule = new AuthRule(List.of("tenant_*", "admin"), List.of("svc_?"), Cidr.parse("10.0.0.0/8"),
                true, AuthMethod.SCRAM_SHA_256);
        assertThat(rule.matches("tenant_a", "svc_1", ip("10.1.1.1"), true)).isTrue();
        assertThat(rule.matches("admin", "svc_1", ip("10.1.1.1"), true)).isTrue();
        assertThat(rule.matches("other", "svc_1", ip("10.1.1.1"), true)).as("database").isFalse();
        assertThat(rule.matches("tenant_a", "svc_12", ip("10.1.1.1"), true)).as("user").isFalse();
        assertThat(rule.matches("tenant_a", "svc_1", ip("192.168.1.1"), true)).as("address").isFalse();
        assertThat(rule.matches("tenant_a", "svc_1", ip("10.1.1.1"), false)).as("tls").isFalse();
        AuthRule plaintextOnly = new AuthRule(List.of(), List.of(), null, false, AuthMethod.REJECT);
        assertThat(plaintextOnly.matches("d", "u", ip("10.1.1.1"), false)).isTrue();
        assertThat(plaintextOnly.matches("d", "u", ip("10.1.1.1"), true)).isFalse();
    }

    @Test
    void theFirstMatchingRuleDecidesThenTheMethod() throws Exception {
        AuthConfig auth = new AuthConfig(AuthMethod.MD5, null, false, Duration.ofSeconds(15), List.of(
                new AuthRule(List.of(), List.of("mallory"), null, null, AuthMethod.REJECT),
                new AuthRule(List.of(), List.of(), Cidr.parse("127.0.0.1"), null, AuthMethod.TRUST),
                new AuthRule(List.of(), List.of(), null, true, AuthMethod.SCRAM_SHA_256)));
        assertThat(auth.methodFor("d", "mallory", ip("127.0.0.1"), true)).isEqualTo(AuthMethod.REJECT);
        assertThat(auth.methodFor("d", "alice", ip("127.0.0.1"), true)).isEqualTo(AuthMethod.TRUST);
        assertThat(auth.methodFor("d", "alice", ip("10.0.0.1"), true)).isEqualTo(AuthMethod.SCRAM_SHA_256);
        assertThat(auth.methodFor("d", "alice", ip("10.0.0.1"), false)).isEqualTo(AuthMethod.MD5);
        assertThat(new AuthConfig(AuthMethod.TRUST, null, false, Duration.ofSeconds(1), List.of())
                .methodFor("d", "u", ip("10.0.0.1"), false)).isEqualTo(AuthMethod.TRUST);
    }
}
