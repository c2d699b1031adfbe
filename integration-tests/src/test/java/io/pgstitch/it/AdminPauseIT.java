package io.pgstitch.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static io.pgstitch.it.AdminConsoleIT.query;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clients that wait, as the admin API sees them: a saturated pool and a paused database in {@code /api/v1/status}
 * (never one for the other), SHOW CLIENTS's {@code wait} and {@code wait_us}, and PAUSE/RESUME under transaction
 * pooling, of one database and of all.
 */
@ExtendWith(PostgresExtension.class)
class AdminPauseIT {

    static TestProxy proxy;
    static AdminApi api;

    @BeforeAll
    static void start(PostgresCluster cluster) throws Exception {
        Tenants.ensure(cluster);
        proxy = TestProxy.start(TestProxy.config(cluster, """
                routes:
                  one: { shard: shard1, database: tenant_a, pool: { size: 1 } }
                  tx: { shard: shard1, database: tenant_a, pool: { mode: transaction, size: 2 } }
                  tenant_b: { shard: shard2, database: tb_db }
                admin: { http: { host: 127.0.0.1, port: 0 } }
                """));
        api = new AdminApi(proxy.server().adminHttpAddress().getPort(), null);
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void aFullPoolMakesTheStatusAWarningAndTheWaitingClientShowsHowLong() throws Exception {
        CompletableFuture<String> waiter;
        try (Connection holder = proxy.connect("one")) {
            holder.setAutoCommit(false);
            assertThat(query(holder, "select tenant from whoami")).isEqualTo("tenant_a");
            waiter = CompletableFuture.supplyAsync(() -> {
                try (Connection late = proxy.connect("one")) {
                    return query(late, "select tenant from whoami");
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            JsonNode status = awaitStatus("the second client to queue", node -> node.at("/status/code").asText()
                    .equals("WARNING"));
            assertThat(status.at("/status/message").asText()).isEqualTo(
                    "pool of shard shard1, database tenant_a, user postgres is saturated: 1 waiting for a connection");

            long firstWait = waitMicros(client("one", "waiting"));
            assertThat(firstWait).as("microseconds waited so far").isPositive();
            assertThat(waitMicros(client("one", "waiting"))).as("the wait goes on").isGreaterThan(firstWait);
            assertThat(waitMicros(client("one", "active"))).as("a served client waits for nothing").isZero();
            assertThat(waiter).isNotDone();
            holder.commit();
        }
        assertThat(waiter.get(30, TimeUnit.SECONDS)).isEqualTo("tenant_a");
        awaitStatus("the pool to be free", node -> node.at("/status/code").asText().equals("OK"));
    }

    /** SHOW CLIENTS's wait (seconds) and wait_us (the microseconds part) as one number. */
    private static long waitMicros(JsonNode client) {
        return client.get("wait").asLong() * 1_000_000 + client.get("wait_us").asLong();
    }

    @Test
    void aShardNoClientHasReachedIsOkWithAMessageSayingSo(PostgresCluster cluster) throws Exception {
        try (TestProxy fresh = TestProxy.start(TestProxy.standardRoutes(cluster)
                + "admin: { http: { host: 127.0.0.1, port: 0 } }\n")) {
            JsonNode status = new AdminApi(fresh.server().adminHttpAddress().getPort(), null)
                    .call("GET", "/api/v1/status", null).json();
            assertThat(status.at("/shards/1/status/code").asText()).isEqualTo("OK");
            assertThat(status.at("/shards/1/status/message").asText())
                    .isEqualTo("unknown: no client has reached it yet");
        }
    }

    @Test
    void aPausedDatabaseIsNamedInTheStatusNotCalledSaturated() throws Exception {
        try (Connection client = proxy.connect("tenant_b")) {
            assertThat(query(client, "select tenant from whoami")).isEqualTo("tenant_b");
            assertThat(api.call("POST", "/api/v1/pause", "{\"database\": \"tenant_b\"}").status()).isEqualTo(200);
            try {
                CompletableFuture<String> held = CompletableFuture.supplyAsync(() -> query(client, "select 'held'"));
                client("tenant_b", "waiting");
                JsonNode status = get("/api/v1/status");
                assertThat(status.at("/status/code").asText()).isEqualTo("WARNING");
                assertThat(status.at("/status/message").asText())
                        .isEqualTo("database tenant_b is paused: its new transactions wait until RESUME");
                assertThat(held).isNotDone();
            } finally {
                assertThat(api.call("POST", "/api/v1/resume", "{\"database\": \"tenant_b\"}").status())
                        .isEqualTo(200);
            }
        }
    }

    /** Transaction pooling: PAUSE waits for the running transaction only, then holds each new one until RESUME. */
    @Test
    void pauseUnderTransactionPoolingWaitsForTheRunningTransactionAndHoldsNewOnes() throws Exception {
        try (Connection inTransaction = proxy.connect("tx"); Connection later = proxy.connect("tx")) {
            inTransaction.setAutoCommit(false);
            assertThat(query(inTransaction, "select tenant from whoami")).isEqualTo("tenant_a");
            CompletableFuture<AdminApi.Answer> pause = CompletableFuture.supplyAsync(() -> post("/api/v1/pause",
                    "{\"database\": \"tx\"}"));
            awaitStatus("tx to be paused", node -> node.at("/status/message").asText()
                    .contains("database tx is paused"));
            CompletableFuture<String> held = CompletableFuture.supplyAsync(() -> query(later, "select 'later'"));
            client("tx", "waiting");
            assertThat(query(inTransaction, "select 'still inside'")).as("the running transaction goes on")
                    .isEqualTo("still inside");
            assertThat(pause).as("PAUSE waits for the running transaction").isNotDone();
            inTransaction.commit();
            assertThat(pause.get(30, TimeUnit.SECONDS).status()).isEqualTo(200);
            CompletableFuture<String> next = CompletableFuture.supplyAsync(() -> query(inTransaction,
                    "select 'next'"));
            await("both clients to be held", () -> clientsIn("tx", "waiting").size(), count -> count == 2);
            assertThat(held).as("held, not refused").isNotDone();
            assertThat(next).isNotDone();

            assertThat(post("/api/v1/resume", "{\"database\": \"tx\"}").status()).isEqualTo(200);
            assertThat(held.get(30, TimeUnit.SECONDS)).isEqualTo("later");
            assertThat(next.get(30, TimeUnit.SECONDS)).isEqualTo("next");
        }
    }

    /** PAUSE without a database holds every database's new transactions, and RESUME releases them all. */
    @Test
    void pauseOfEverythingHoldsEveryDatabase() throws Exception {
        try (Connection tx = proxy.connect("tx"); Connection other = proxy.connect("tenant_b")) {
            assertThat(post("/api/v1/pause", null).status()).as("nothing runs: PAUSE returns at once")
                    .isEqualTo(200);
            CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> query(tx, "select 'tx'"));
            CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> query(other, "select 'b'"));
            client("tx", "waiting");
            client("tenant_b", "waiting");
            assertThat(get("/api/v1/status").at("/status/message").asText())
                    .isEqualTo("every database is paused: new transactions wait until RESUME");
            assertThat(first).isNotDone();
            assertThat(second).isNotDone();
            assertThat(post("/api/v1/resume", null).status()).isEqualTo(200);
            assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo("tx");
            assertThat(second.get(30, TimeUnit.SECONDS)).isEqualTo("b");
        }
    }

    private static AdminApi.Answer post(String path, String body) {
        try {
            return api.call("POST", path, body);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Looks with {@code probe} until {@code done} says yes (30 s at most), and returns what it saw last. */
    private static <T> T await(String what, Supplier<T> probe, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        T seen = probe.get();
        while (!done.test(seen)) {
            assertThat(System.nanoTime()).as("waiting for " + what + ": " + seen).isLessThan(deadline);
            Thread.sleep(20);
            seen = probe.get();
        }
        return seen;
    }

    private static JsonNode awaitStatus(String what, Predicate<JsonNode> done) throws InterruptedException {
        return await(what, () -> get("/api/v1/status"), done);
    }

    /** Waits for a client of {@code database} in {@code state} (SHOW CLIENTS) and returns its row. */
    private static JsonNode client(String database, String state) throws InterruptedException {
        return await("a client of " + database + " in state " + state, () -> clientsIn(database, state).stream()
                .findFirst().orElse(null), Objects::nonNull);
    }

    private static List<JsonNode> clientsIn(String database, String state) {
        List<JsonNode> rows = new ArrayList<>();
        for (JsonNode row : get("/api/v1/clients")) {
            if (row.get("database").asText().equals(database) && row.get("state").asText().equals(state)) {
                rows.add(row);
            }
        }
        return rows;
    }

    private static JsonNode get(String path) {
        try {
            return api.call("GET", path, null).json();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
