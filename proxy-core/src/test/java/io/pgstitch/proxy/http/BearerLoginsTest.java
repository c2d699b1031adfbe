package io.pgstitch.proxy.http;

import io.pgstitch.conf.AuthConfig;
import io.pgstitch.conf.AuthMethod;
import io.pgstitch.conf.AuthRule;
import io.pgstitch.conf.Cidr;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BearerLoginsTest {

    @Test
    void aTokensSessionIsTrustedExceptWhereARuleRejects() throws Exception {
        AuthConfig auth = new AuthConfig(AuthMethod.SCRAM_SHA_256, Path.of("users.txt"), false, Duration.ofSeconds(5),
                List.of(new AuthRule(List.of(), List.of("mallory"), null, null, AuthMethod.REJECT),
                        new AuthRule(List.of(), List.of(), Cidr.parse("10.0.0.0/8"), null, AuthMethod.REJECT),
                        new AuthRule(List.of("db"), List.of("bob"), null, null, AuthMethod.MD5)));
        AuthConfig bearer = SqlOverHttp.trusting(auth);
        InetAddress local = InetAddress.getByName("127.0.0.1");
        assertThat(bearer.methodFor("db", "alice", local, false)).isEqualTo(AuthMethod.TRUST);
        assertThat(bearer.methodFor("db", "bob", local, false)).isEqualTo(AuthMethod.TRUST);
        assertThat(bearer.methodFor("db", "mallory", local, true)).isEqualTo(AuthMethod.REJECT);
        assertThat(bearer.methodFor("db", "alice", InetAddress.getByName("10.1.2.3"), true))
                .isEqualTo(AuthMethod.REJECT);
        assertThat(bearer.usersFile()).isEqualTo(auth.usersFile()); // the shard login still finds the user's secret
        assertThat(bearer.timeout()).isEqualTo(auth.timeout());
    }
}
