package io.pgstitch.protocol.auth;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class Md5PasswordTest {

    private static final byte[] SALT = {1, 2, 3, 4};
    // PostgreSQL 15: SET password_encryption = 'md5'; CREATE ROLE c PASSWORD 'pencil';
    private static final String PG_HASH = "md5a2286e2058e8275f4419293789626063";
    private static final byte[] OTHER_SALT = {1, 2, (byte) 0xfe, 4};

    @Test
    void matchesPostgresqlsDoubleMd5() {
        // printf 'secretalice' | md5sum                       -> 4a0a68b43b6cd5cf266fa02f196e2371
        // (printf '4a0a...2371'; printf '\x01\x02\x03\x04') | md5sum -> 98a0412b9c31436fc53776e863350083
        assertThat(Md5Password.hash("alice", "secret")).isEqualTo("md54a0a68b43b6cd5cf266fa02f196e2371");
        assertThat(Md5Password.encode("alice", "secret", SALT)).isEqualTo("md598a0412b9c31436fc53776e863350083");
    }

    @Test
    void anAlreadyHashedPasswordSkipsTheInnerStep() {
        assertThat(Md5Password.encode("alice", "md54a0a68b43b6cd5cf266fa02f196e2371", SALT))
                .isEqualTo("md598a0412b9c31436fc53776e863350083");
    }

    @Test
    void hashMatchesPostgres() {
        assertThat(Md5Password.hash("c", "pencil")).isEqualTo(PG_HASH);
    }

    @Test
    void verifyAcceptsTheRightAnswerForAStoredHashOrPlaintext() {
        String answer = Md5Password.encode("c", "pencil", OTHER_SALT);
        assertThat(Md5Password.verify("c", PG_HASH, OTHER_SALT, answer)).isTrue();
        assertThat(Md5Password.verify("c", "pencil", OTHER_SALT, answer)).isTrue();
        assertThat(Md5Password.verify("alice", "md54a0a68b43b6cd5cf266fa02f196e2371", SALT,
                "md598a0412b9c31436fc53776e863350083")).isTrue();
    }

    @Test
    void verifyRefusesEverythingElse() {
        String answer = Md5Password.encode("c", "pencil", SALT);
        assertThat(Md5Password.verify("c", PG_HASH, OTHER_SALT, answer)).isFalse();
        assertThat(Md5Password.verify("d", "pencil", SALT, answer)).as("the user is salted in").isFalse();
        assertThat(Md5Password.verify("c", PG_HASH, SALT, Md5Password.encode("c", "pencil2", SALT))).isFalse();
        assertThat(Md5Password.verify("c", PG_HASH, SALT, PG_HASH)).as("a replayed hash").isFalse();
        assertThat(Md5Password.verify("c", PG_HASH, SALT, "")).isFalse();
        assertThat(Md5Password.verify("c", PG_HASH, SALT, null)).isFalse();
        assertThat(Md5Password.verify("c", ScramVerifier.fromPassword("pencil").encoded(), SALT, answer)).isFalse();
    }
}
