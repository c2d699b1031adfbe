package io.pgstitch.protocol.auth;

import io.pgstitch.protocol.PgException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class PasswordsTest {

    @Test
    void theFailureIsPostgresOwn() {
        PgException e = Passwords.authenticationFailed("alice");
        assertThat(e.sqlState()).isEqualTo("28P01");
        assertThat(e.isFatal()).isTrue();
        assertThat(e.getMessage()).isEqualTo("password authentication failed for user \"alice\"");
    }

    @Test
    void cleartextAgainstEveryStoredForm() {
        String scram = ScramVerifier.fromPassword("pencil").encoded();
        assertThat(Passwords.verifyCleartext("u", scram, "pencil")).isTrue();
        assertThat(Passwords.verifyCleartext("u", scram, "pencil ")).isFalse();
        assertThat(Passwords.verifyCleartext("c", "md5a2286e2058e8275f4419293789626063", "pencil"))
                .isTrue();
        assertThat(Passwords.verifyCleartext("x", "md5a2286e2058e8275f4419293789626063", "pencil"))
                .isFalse();
        assertThat(Passwords.verifyCleartext("u", "pencil", "pencil")).isTrue();
        assertThat(Passwords.verifyCleartext("u", "pencil", "Pencil")).isFalse();
        String mock = ScramVerifier.mock("s".getBytes(StandardCharsets.UTF_8), "u").encoded();
        assertThat(Passwords.verifyCleartext("u", mock, "")).isFalse();
    }
}
