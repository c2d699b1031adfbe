package io.pgstitch.it;

import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that stops reading must not make the proxy buffer the result: a 2 GB COPY TO STDOUT to a client
 * that reads 8 MB and pauses keeps the proxy's buffer memory flat, because the proxy stops reading the
 * backend while the client's socket is not writable (and PostgreSQL then waits on its own socket).
 */
class BackpressureIT extends ProxiedTest {

    private static final long TWO_GB_ROWS = 2_000_000; // rows of 1 000 bytes
    private static final long LIMIT_BYTES = 64L * 1024 * 1024;

    @Test
    void aPausedReaderKeepsTheProxysMemoryFlat() throws Exception {
        long before = bufferMemory();
        try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
            socket.setReceiveBufferSize(64 * 1024);
            RawClient client = RawClient.wrap(socket);
            client.sendStartup(Map.of("user", "postgres", "database", "tenant_a"));
            client.readUntil('Z');
            client.send('Q', ("copy (select repeat('x', 999) from generate_series(1, " + TWO_GB_ROWS
                    + ")) to stdout\0").getBytes(StandardCharsets.UTF_8));
            DataInputStream in = new DataInputStream(socket.getInputStream());
            long read = skip(in, 8L * 1024 * 1024);

            long peak = 0;
            for (int i = 0; i < 30; i++) { // three seconds of not reading, sampled
                Thread.sleep(100);
                peak = Math.max(peak, bufferMemory() - before);
            }
            System.out.printf("backpressure: read %d MB, then paused; proxy buffer memory grew by at most %.1f MB "
                    + "(of a %d MB result)%n", read >> 20, peak / 1048576.0, TWO_GB_ROWS * 1000 >> 20);
            assertThat(peak).as("bytes the proxy holds for a paused client").isLessThan(LIMIT_BYTES);
            assertThat(copyStillRunning()).as("PostgreSQL is held back, not done").isTrue();
        } // the client leaves mid-COPY: its query is cancelled, and the paused backend is read again and reused
        boolean reusable = false;
        for (int i = 0; i < 200 && !reusable; i++) {
            Thread.sleep(25);
            reusable = proxy.server().pools().pools().stream()
                    .anyMatch(pool -> pool.idleConnections() > 0 && pool.openConnections() == pool.idleConnections());
        }
        assertThat(reusable).as("the paused backend came back to its pool").isTrue();
    }

    private static long skip(InputStream in, long bytes) throws Exception {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        while (total < bytes) {
            int n = in.read(buffer);
            if (n < 0) {
                throw new AssertionError("the result ended early");
            }
            total += n;
        }
        return total;
    }

    /** Pooled buffer memory of this JVM, where the proxy runs: direct and heap arenas. */
    private static long bufferMemory() {
        var metric = PooledByteBufAllocator.DEFAULT.metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory();
    }

    private static boolean copyStillRunning() throws Exception {
        try (Connection direct = DriverManager.getConnection(cluster.shard(1).jdbcUrl("tenant_a"), "postgres", "");
             ResultSet rs = direct.createStatement().executeQuery(
                     "select count(*) from pg_stat_activity where query like 'copy (select repeat%' and state = 'active'")) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }
}
