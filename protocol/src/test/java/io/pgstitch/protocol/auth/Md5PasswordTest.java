package io.pgstitch.protocol.auth;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class Md5PasswordTest {

    private static final byte[] SALT = {1, 2, 3, 4};

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
}
