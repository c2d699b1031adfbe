package io.pgstitch.proxy.postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SharedDirectoryTest {

    @Test
    void fillsOnceThenReuses(@TempDir Path root) throws IOException {
        AtomicInteger fills = new AtomicInteger();
        SharedDirectory.Filler filler = dir -> {
            fills.incrementAndGet();
            Files.writeString(dir.resolve("content"), "x");
        };

        Path first = SharedDirectory.create(root.resolve("cache"), "one", filler);
        Path second = SharedDirectory.create(root.resolve("cache"), "one", filler);

        assertThat(first).isEqualTo(second).isEqualTo(root.resolve("cache/one"));
        assertThat(first.resolve("content")).hasContent("x");
        assertThat(fills).hasValue(1);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(first))).isEqualTo("rwxr-xr-x");
    }

    @Test
    void aFailedFillLeavesNothingAndIsTriedAgain(@TempDir Path root) throws IOException {
        assertThatThrownBy(() -> SharedDirectory.create(root, "broken", dir -> {
            Files.writeString(dir.resolve("half"), "written");
            throw new IOException("disk full");
        })).hasMessage("disk full");
        try (var left = Files.list(root)) {
            assertThat(left).isEmpty();
        }

        assertThat(SharedDirectory.create(root, "broken", dir -> Files.createFile(dir.resolve("whole"))))
                .isDirectoryContaining(path -> path.getFileName().toString().equals("whole"));
    }

    @Test
    void losingTheRaceUsesTheWinnersDirectory(@TempDir Path root) throws IOException {
        Path target = SharedDirectory.create(root, "raced", dir -> {
            // another JVM finishes first, while this one is still filling
            Files.createDirectories(root.resolve("raced"));
            Files.writeString(root.resolve("raced/winner"), "theirs");
            Files.writeString(dir.resolve("loser"), "ours");
        });

        assertThat(target.resolve("winner")).hasContent("theirs");
        assertThat(target.resolve("loser")).doesNotExist();
        try (var left = Files.list(root)) {
            assertThat(left).containsExactly(target);
        }
    }

    @Test
    void keysAreShortHexOfTheSha256() {
        assertThat(SharedDirectory.key("a".getBytes())).isEqualTo("ca978112ca1bbdca")
                .isNotEqualTo(SharedDirectory.key("b".getBytes()));
    }
}
