package io.pgstitch.it;

import io.pgstitch.it.support.LogWatch;
import io.pgstitch.it.support.ScriptedShard;
import io.pgstitch.it.support.Wire;
import io.pgstitch.it.support.WireClient;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.pgstitch.it.support.FakeShard.message;
import static io.pgstitch.it.support.FakeShard.oneRow;
import static io.pgstitch.it.support.FakeShard.readyForQuery;
import static io.pgstitch.it.support.Wire.query;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A shard that misbehaves in time, not only in format (HostileShardIT has the malformed answers): it closes in
 * the middle of a DataRow, sends a FATAL while its connection sits idle in the pool or while the client is idle,
 * answers with a ReadyForQuery nobody asked for, floods 100 MB of notices, or fails the login. Each must reach
 * the client as a clear error naming the shard (or not at all, when no client was involved), and leave the proxy
 * healthy: a new client works, no client is left held, nothing leaked ({@link LogWatch}).
 */
@ExtendWith(LogWatch.class)
class HostileShardShapesIT {

    private static final Duration ANSWER = Duration.ofSeconds(10);
    private static final String NAMED = "shard \"hostile\"";

    private static TestProxy proxy(ScriptedShard shard) throws Exception {
        return TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                auth: { method: trust }
                shards:
                  hostile: { host: 127.0.0.1, port: %d, user: postgres }
                default_route: hostile
                """.formatted(shard.port()));
    }

    private static WireClient client(TestProxy proxy) throws Exception {
        return WireClient.loggedIn(proxy.port(), "postgres", "x", ANSWER);
    }

    private static byte[] error(String severity, String sqlState, String text) {
        return message('E', "S" + severity + "\0V" + severity + "\0C" + sqlState + "\0M" + text + "\0\0");
    }

    /** A FATAL naming the shard (in any field), then the close. */
    private static void expectFatalNamingTheShard(WireClient.Answer answer, String... sqlStates) {
        assertThat(answer.closed()).as("closed: " + answer).isTrue();
        Wire.Message error = answer.error();
        assertThat(error).as("an ErrorResponse: " + answer).isNotNull();
        assertThat(error.severity()).as(error.toString()).isEqualTo("FATAL");
        assertThat(error.sqlState()).as(error.toString()).isIn((Object[]) sqlStates);
        assertThat(String.join(" ", error.fields().values())).as("the error names the shard: " + error.fields())
                .contains(NAMED);
    }

    /** What must hold after every case: a new session works and the proxy holds no client. */
    private static void assertHealthy(TestProxy proxy) throws Exception {
        try (WireClient fresh = client(proxy)) {
            fresh.send(query("select 1"));
            WireClient.Answer answer = fresh.readUntil('Z', ANSWER);
            assertThat(answer.messages()).as("a new session works: " + answer).extracting(Wire.Message::type)
                    .containsExactly('T', 'D', 'C', 'Z');
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxy.server().clientCount() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(proxy.server().clientCount()).as("clients the proxy still holds").isZero();
    }

    @Test
    void closingInTheMiddleOfADataRowIsAFatalErrorNamingTheShard() throws Exception {
        byte[] description = ByteBuffer.allocate(2 + 2 + 18).putShort((short) 1).put((byte) 'x').put((byte) 0)
                .putInt(0).putShort((short) 0).putInt(23).putShort((short) 4).putInt(-1).putShort((short) 0).array();
        try (ScriptedShard shard = new ScriptedShard((sql, backend) -> {
            if (!sql.equals("select broken")) {
                return false;
            }
            // a DataRow announcing 1000 bytes, of which two arrive
            backend.send(message('T', description), new byte[] {'D', 0, 0, 3, (byte) 0xe8, 0, 1});
            backend.later(100, new byte[0], true);
            return true;
        }); TestProxy proxy = proxy(shard)) {
            try (WireClient client = client(proxy)) {
                client.send(query("select broken"));
                WireClient.Answer answer = client.readToEnd(ANSWER);
                expectFatalNamingTheShard(answer, "08006");
                assertThat(answer.messages().get(0).type()).as("the RowDescription came first").isEqualTo('T');
                assertThat(answer.messages()).as("no piece of the DataRow reached the client")
                        .noneMatch(m -> m.type() == 'D');
            }
            assertHealthy(proxy);
        }
    }

    @Test
    void aFatalWhileIdleInThePoolNeverReachesAClient() throws Exception {
        CountDownLatch gone = new CountDownLatch(1);
        try (ScriptedShard shard = new ScriptedShard((sql, backend) -> {
            if (sql.equalsIgnoreCase("DISCARD ALL") && backend.number() == 1) {
                backend.send(message('C', "DISCARD ALL\0"), readyForQuery('I')); // reset: back in the pool
                backend.later(200, error("FATAL", "57P01", "terminating connection due to administrator command"),
                        true);
                new Thread(() -> {
                    try {
                        Thread.sleep(600);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    gone.countDown();
                }).start();
                return true;
            }
            return false;
        }); TestProxy proxy = proxy(shard)) {
            try (WireClient first = client(proxy)) {
                first.send(query("select 1"));
                assertThat(first.readUntil('Z', ANSWER).error()).isNull();
                first.send(Wire.terminate());
            }
            assertThat(gone.await(10, TimeUnit.SECONDS)).isTrue();
            try (WireClient second = client(proxy)) {
                second.send(query("select 2"));
                WireClient.Answer answer = second.readUntil('Z', ANSWER);
                assertThat(answer.messages()).as("the next client gets a working backend: " + answer)
                        .extracting(Wire.Message::type).containsExactly('T', 'D', 'C', 'Z');
            }
            assertThat(shard.connections()).as("the dead pooled backend was replaced").isEqualTo(2);
            assertHealthy(proxy);
        }
    }

    @Test
    void aFatalWhileTheClientIsIdleNamesTheShard() throws Exception {
        try (ScriptedShard shard = new ScriptedShard((sql, backend) -> {
            if (!sql.equals("select 1") || backend.number() != 1) {
                return false;
            }
            backend.send(oneRow(), readyForQuery('I'));
            backend.later(200, error("FATAL", "57P01", "terminating connection due to administrator command"), true);
            return true;
        }); TestProxy proxy = proxy(shard)) {
            try (WireClient client = client(proxy)) {
                client.send(query("select 1"));
                assertThat(client.readUntil('Z', ANSWER).error()).isNull();
                expectFatalNamingTheShard(client.readToEnd(ANSWER), "57P01");
            }
            assertHealthy(proxy);
        }
    }

    @Test
    void aReadyForQueryNobodyAskedForIsAFatalErrorNamingTheShard() throws Exception {
        try (ScriptedShard shard = new ScriptedShard((sql, backend) -> {
            if (!sql.equals("select unasked")) {
                return false;
            }
            backend.send(oneRow(), readyForQuery('I'));
            backend.later(100, readyForQuery('I'), false);
            return true;
        }); TestProxy proxy = proxy(shard)) {
            try (WireClient client = client(proxy)) {
                client.send(query("select unasked"));
                WireClient.Answer answer = client.readUntil('Z', ANSWER);
                assertThat(answer.messages()).extracting(Wire.Message::type).containsExactly('T', 'D', 'C', 'Z');
                WireClient.Answer unasked = client.readToEnd(Duration.ofSeconds(3));
                assertThat(unasked.messages()).as("after the answer: " + unasked).noneMatch(m -> m.type() == 'Z');
                expectFatalNamingTheShard(unasked, "08P01");
            }
            assertHealthy(proxy);
        }
    }

    @Test
    void oneHundredMegabytesOfNoticesReachTheClientAndTheProxyStaysHealthy() throws Exception {
        int notices = 10_000;
        byte[] notice = message('N', "SNOTICE\0VNOTICE\0C00000\0M" + "n".repeat(10_000) + "\0\0");
        try (ScriptedShard shard = new ScriptedShard((sql, backend) -> {
            if (!sql.equals("select noisy")) {
                return false;
            }
            byte[] hundred = Wire.repeat(notice, 100);
            for (int i = 0; i < notices / 100; i++) {
                backend.send(hundred);
            }
            backend.send(oneRow(), readyForQuery('I'));
            return true;
        }); TestProxy proxy = proxy(shard)) {
            try (WireClient client = client(proxy)) {
                client.send(query("select noisy"));
                List<Wire.Message> errors = new ArrayList<>();
                Map<Character, Long> counts = client.countUntil('Z', Duration.ofSeconds(60), errors);
                assertThat(errors).isEmpty();
                assertThat(counts).containsEntry('N', (long) notices).containsEntry('D', 1L).containsEntry('Z', 1L);
                client.send(query("select 1"));
                assertThat(client.readUntil('Z', ANSWER).messages()).extracting(Wire.Message::type)
                        .containsExactly('T', 'D', 'C', 'Z');
            }
            assertHealthy(proxy);
        }
    }

    @Test
    void aShardClosingDuringLoginIsAFatalErrorNamingTheShard() throws Exception {
        byte[] cutShort = {'R', 0, 0, 0, 8, 0}; // AuthenticationOk announcing 4 bytes of body, of which 1 comes
        expectLoginRefusalNamingTheShard(cutShort, "08006");
    }

    @Test
    void aShardRefusingTheLoginIsAFatalErrorNamingTheShard() throws Exception {
        expectLoginRefusalNamingTheShard(error("FATAL", "53300", "sorry, too many clients already"), "53300");
    }

    @Test
    void aShardAskingForAnUnknownAuthenticationIsAFatalErrorNamingTheShard() throws Exception {
        expectLoginRefusalNamingTheShard(message('R', ByteBuffer.allocate(4).putInt(99).array()), "08001");
    }

    @Test
    void anUnknownAuthenticationRequestIsDescribedInWords() throws Exception {
        try (ScriptedShard shard = ScriptedShard.closingAfterLogin(message('R', ByteBuffer.allocate(4).putInt(99)
                .array())); TestProxy proxy = proxy(shard); WireClient client = WireClient.connect(proxy.port())) {
            client.send(Wire.startup("postgres", "x"));
            WireClient.Answer answer = client.readToEnd(ANSWER);
            assertThat(answer.error()).as(answer.toString()).isNotNull();
            assertThat(answer.error().message()).contains("99").doesNotContainPattern("[A-Z][A-Za-z]+\\[\\w+=");
        }
    }

    private static void expectLoginRefusalNamingTheShard(byte[] login, String... sqlStates) throws Exception {
        try (ScriptedShard shard = ScriptedShard.closingAfterLogin(login); TestProxy proxy = proxy(shard)) {
            try (WireClient client = WireClient.connect(proxy.port())) {
                client.send(Wire.startup("postgres", "x"));
                expectFatalNamingTheShard(client.readToEnd(ANSWER), sqlStates);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (proxy.server().clientCount() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(proxy.server().clientCount()).as("clients the proxy still holds").isZero();
        }
    }
}
