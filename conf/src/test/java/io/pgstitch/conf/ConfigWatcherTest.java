package io.pgstitch.conf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

class ConfigWatcherTest {

    private static final String V1 = "shards: { a: { user: u } }\nroutes: { t: a }\n";
    private static final String V2 = "shards: { a: { user: u }, b: { user: u } }\nroutes: { t: b }\n";

    @Test
    void aValidEditIsAppliedAndAnInvalidOneIsNot(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgstitch.yaml");
        Files.writeString(file, V1);
        BlockingQueue<ProxyConfig> applied = new LinkedBlockingQueue<>();
        try (ConfigWatcher watcher = new ConfigWatcher(file, ConfigLoader.load(file), applied::add)) {
            watcher.start();
            Files.writeString(file, V2);
            ProxyConfig next = applied.poll(20, TimeUnit.SECONDS);
            assertThat(next).as("the edit was noticed").isNotNull();
            assertThat(next.routes().get(0).shard()).isEqualTo("b");
            assertThat(watcher.current()).isEqualTo(next);

            Files.writeString(file, "shards: { a: { user: u } }\nroutes: { t: zz }\n");
            ConfigWatcher.ReloadResult result = watcher.reloadNow();
            assertThat(result.applied()).isFalse();
            assertThat(result.problems()).containsExactly("routes.t: unknown shard \"zz\" (shards: a)");
            assertThat(watcher.current()).isEqualTo(next);
        }
    }

    @Test
    void aRefusedFileIsRejectedWithTheRefusalsProblems(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgstitch.yaml");
        Files.writeString(file, V1);
        ConfigWatcher watcher = new ConfigWatcher(file, ConfigLoader.load(file),
                next -> fail("a refused file is not applied"));
        ProxyConfig running = watcher.current();
        watcher.refuseWhen(next -> next.shards().containsKey("b") ? List.of("shards.b: not now") : List.of());
        Files.writeString(file, V2);
        ConfigWatcher.ReloadResult result = watcher.reloadNow();
        assertThat(result.applied()).isFalse();
        assertThat(result.problems()).containsExactly("shards.b: not now");
        assertThat(watcher.current()).isSameAs(running);
    }

    @Test
    void aFileReplacedByRenameIsPickedUp(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgstitch.yaml");
        Files.writeString(file, V1);
        BlockingQueue<ProxyConfig> applied = new LinkedBlockingQueue<>();
        try (ConfigWatcher watcher = new ConfigWatcher(file, ConfigLoader.load(file), applied::add)) {
            watcher.start();
            Path temp = dir.resolve(".pgstitch.yaml.swp");
            Files.writeString(temp, V2);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            ProxyConfig next = applied.poll(20, TimeUnit.SECONDS);
            assertThat(next).isNotNull();
            assertThat(next.shards()).containsKey("b");
        }
    }

    @Test
    void reloadNowWithoutChangeDoesNotCallBack(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("pgstitch.yaml");
        Files.writeString(file, V1);
        BlockingQueue<ProxyConfig> applied = new LinkedBlockingQueue<>();
        try (ConfigWatcher watcher = new ConfigWatcher(file, ConfigLoader.load(file), applied::add)) {
            ConfigWatcher.ReloadResult result = watcher.reloadNow();
            assertThat(result.applied()).isTrue();
            assertThat(result.changed()).isFalse();
            assertThat(applied).isEmpty();
        }
    }
}
