package io.pgstitch.proxy.postgres;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServerUserTest {

    private static List<String> status(String uidLine) {
        return List.of("Name:\tjava", "Umask:\t0022", "State:\tS (sleeping)", uidLine, "Gid:\t0\t0\t0\t0");
    }

    @Test
    void theEffectiveUidDecides() {
        assertThat(ServerUser.effectiveUidIsRoot(status("Uid:\t0\t0\t0\t0"))).isTrue();
        assertThat(ServerUser.effectiveUidIsRoot(status("Uid:\t1000\t1000\t1000\t1000"))).isFalse();
        // a setuid-root program run by a user: real 1000, effective 0; PostgreSQL checks geteuid()
        assertThat(ServerUser.effectiveUidIsRoot(status("Uid:\t1000\t0\t0\t0"))).isTrue();
        assertThat(ServerUser.effectiveUidIsRoot(status("Uid:\t0\t65534\t0\t0"))).isFalse();
    }

    @Test
    void aStatusWithoutUidIsRefused() {
        assertThatThrownBy(() -> ServerUser.effectiveUidIsRoot(List.of("Name:\tjava")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Uid:");
        assertThatThrownBy(() -> ServerUser.effectiveUidIsRoot(List.of("Uid:\t0")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Uid:\t0");
    }

    @Test
    void thisJvmMatchesProcSelfStatus() {
        boolean root = "root".equals(System.getProperty("user.name"));
        assertThat(ServerUser.isRoot()).isEqualTo(root);
        assertThat(ServerUser.current().asNobody()).isEqualTo(root);
    }

    @Test
    void rootRunsTheServersAsNobodyThroughSetprivOrRunuser() {
        List<String> initdb = List.of("/pg/bin/initdb", "-D", "/tmp/data");
        assertThat(new ServerUser(true, true).command(initdb)).containsExactly("setpriv", "--reuid=nobody",
                "--regid=nogroup", "--clear-groups", "--reset-env", "--", "/pg/bin/initdb", "-D", "/tmp/data");
        assertThat(new ServerUser(true, false).command(initdb))
                .containsExactly("runuser", "-u", "nobody", "--", "/pg/bin/initdb", "-D", "/tmp/data");
    }

    @Test
    void anyOtherUserRunsThemDirectly() {
        ServerUser user = new ServerUser(false, true);
        assertThat(user.asNobody()).isFalse();
        assertThat(user.command(List.of("/pg/bin/postgres", "-D", "d"))).containsExactly("/pg/bin/postgres", "-D", "d");
    }
}
