package io.pgstitch.proxy.http;

import io.pgstitch.conf.HttpConfig;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class CredentialsTest {

    private static final HttpConfig CONFIG = new HttpConfig("127.0.0.1", 0, false, false,
            HttpConfig.Limits.defaults(), Duration.ofSeconds(30), Map.of("alice-token-0123456789", "alice"), List.of());

    private static String basic(String userPassword) {
        return "Basic " + Base64.getEncoder().encodeToString(userPassword.getBytes(StandardCharsets.UTF_8));
    }

    private static String refusal(String header) {
        return catchThrowableOfType(Refused.class, () -> Credentials.of(header, CONFIG)).error().code();
    }

    @Test
    void basicGivesUserAndPassword() {
        assertThat(Credentials.of(basic("zoë:pa:ss wörd"), CONFIG)).isEqualTo(new Credentials("zoë", "pa:ss wörd"));
        assertThat(Credentials.of("basic " + basic("a:").substring(6), CONFIG)).isEqualTo(new Credentials("a", ""));
    }

    @Test
    void bearerGivesTheTokensUser() {
        Credentials bearer = Credentials.of("Bearer alice-token-0123456789", CONFIG);
        assertThat(bearer.user()).isEqualTo("alice");
        assertThat(bearer.password()).isNull();
        assertThat(bearer.toString()).doesNotContain("token-0123");
    }

    @Test
    void refusals() {
        assertThat(refusal(null)).isEqualTo("AUTHENTICATION_REQUIRED");
        assertThat(refusal("Bearer alice-token-012345678")).isEqualTo("INVALID_TOKEN");
        assertThat(refusal("Basic !!!")).isEqualTo("INVALID_CREDENTIALS");
        assertThat(refusal(basic(":nouser"))).isEqualTo("INVALID_CREDENTIALS");
        assertThat(refusal(basic("nocolon"))).isEqualTo("INVALID_CREDENTIALS");
        assertThat(refusal("Basic " + Base64.getEncoder().encodeToString(new byte[] {'a', ':', (byte) 0xff})))
                .isEqualTo("INVALID_CREDENTIALS");
        assertThat(refusal("Digest x")).isEqualTo("INVALID_CREDENTIALS");
    }

    @Test
    void aWebSocketMayOfferItsTokenAsASubprotocol() {
        String offered = "pgstitch, bearer." + Base64.getUrlEncoder().withoutPadding()
                .encodeToString("alice-token-0123456789".getBytes(StandardCharsets.UTF_8));
        assertThat(Credentials.ofWebSocket(null, offered, CONFIG)).isEqualTo(new Credentials("alice", null));
        // the Authorization header, when there is one, is what counts
        assertThat(Credentials.ofWebSocket(basic("bob:pw"), offered, CONFIG)).isEqualTo(new Credentials("bob", "pw"));
        assertThat(catchThrowableOfType(Refused.class, () -> Credentials.ofWebSocket(null, "pgstitch, bearer."
                + Base64.getUrlEncoder().encodeToString("wrong".getBytes(StandardCharsets.UTF_8)), CONFIG))
                .error().code()).isEqualTo("INVALID_TOKEN");
        assertThat(catchThrowableOfType(Refused.class, () -> Credentials.ofWebSocket(null, "pgstitch, bearer.***",
                CONFIG)).error().code()).isEqualTo("INVALID_CREDENTIALS");
        assertThat(catchThrowableOfType(Refused.class, () -> Credentials.ofWebSocket(null, offered.substring(10),
                CONFIG)).error().code()).isEqualTo("INVALID_REQUEST");
        assertThat(catchThrowableOfType(Refused.class, () -> Credentials.ofWebSocket(null, "pgstitch", CONFIG))
                .error().code()).isEqualTo("AUTHENTICATION_REQUIRED");
    }
}
