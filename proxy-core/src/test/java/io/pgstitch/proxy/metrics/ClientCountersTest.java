package io.pgstitch.proxy.metrics;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.backend.CommandComplete;
import io.pgstitch.protocol.backend.ReadyForQuery;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Queries and transactions as PgBouncer counts them, bytes, error classes, and per-database meters only when asked. */
class ClientCountersTest {

    private static void send(ClientCounters counters, ByteBuf message) {
        try {
            counters.sent(message);
        } finally {
            message.release();
        }
    }

    private static ByteBuf encoded(io.pgstitch.protocol.backend.BackendMessage message) {
        ByteBuf out = Unpooled.buffer();
        out.writeZero(3); // encoders are used at a non-zero reader index too
        out.readerIndex(3);
        out.writerIndex(3);
        message.encode(out);
        return out;
    }

    @Test
    void queriesAndTransactionsEndAtReadyForQuery() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        TrafficStats stats = new TrafficStats(registry, false);
        ClientCounters counters = stats.newClient();
        counters.routed("tenant_a", "shard1");
        send(counters, encoded(ReadyForQuery.IDLE)); // the one after login is no query
        assertThat(counters.queries()).isZero();
        assertThat(counters.idle()).isTrue();

        counters.received((byte) 'Q', 20); // BEGIN
        assertThat(counters.idle()).isFalse();
        send(counters, encoded(new CommandComplete("BEGIN")));
        send(counters, encoded(ReadyForQuery.IN_TRANSACTION));
        assertThat(counters.idle()).as("inside a transaction block").isFalse();
        counters.received((byte) 'P', 30); // extended protocol up to a Sync: one query
        counters.received((byte) 'B', 15);
        counters.received((byte) 'E', 9);
        counters.received((byte) 'S', 5);
        send(counters, encoded(ReadyForQuery.IN_TRANSACTION));
        counters.received((byte) 'Q', 21); // COMMIT
        send(counters, encoded(ReadyForQuery.IDLE));

        assertThat(counters.queries()).isEqualTo(3);
        assertThat(counters.transactions()).isEqualTo(1);
        assertThat(counters.idle()).isTrue();
        assertThat(counters.received()).isEqualTo(100);
        TrafficStats.DatabaseTotals totals = stats.databases().get(0);
        assertThat(totals.database()).isEqualTo("tenant_a");
        assertThat(totals.queries()).isEqualTo(3);
        assertThat(totals.transactions()).isEqualTo(1);
        assertThat(totals.received()).isEqualTo(100);
        assertThat(totals.sent()).isEqualTo(counters.sent());
        assertThat(registry.get("pgstitch.transactions").tag("shard", "shard1").timer().count()).isEqualTo(1);
        assertThat(registry.get("pgstitch.queries").timer().count()).isEqualTo(3);
        assertThat(registry.find("pgstitch.queries").tag("database", "tenant_a").timer()).isNull();
    }

    @Test
    void errorsAreCountedByClassAndPerDatabaseMetersAreOptIn() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        TrafficStats stats = new TrafficStats(registry, true);
        ClientCounters counters = stats.newClient();
        counters.routed("tenant_b", "shard2");
        counters.received((byte) 'Q', 10);
        send(counters, encoded(PgException.error("42P01", "relation \"x\" does not exist").toErrorResponse()));
        send(counters, encoded(ReadyForQuery.IDLE));
        stats.errorOf("57P01");
        assertThat(registry.get("pgstitch.client.errors").tag("class", "42").counter().count()).isEqualTo(1);
        assertThat(registry.get("pgstitch.client.errors").tag("class", "57").counter().count()).isEqualTo(1);
        assertThat(registry.get("pgstitch.queries").tag("database", "tenant_b").tag("shard", "shard2").timer()
                .count()).isEqualTo(1);
        ClientCounters other = stats.newClient();
        other.routed("tenant_c", "shard2");
        assertThat(registry.scrape()).contains("pgstitch_queries_seconds_count{database=\"tenant_b\",shard=\"shard2\"} 1")
                .contains("pgstitch_client_bytes_total{database=\"tenant_c\",direction=\"in\",shard=\"shard2\"} 0");

        ByteBuf truncated = Unpooled.buffer().writeByte('E').writeInt(100).writeByte('C').writeBytes("4".getBytes());
        try {
            assertThat(ErrorClass.of(truncated)).as("a malformed ErrorResponse is not misread").isEqualTo("unknown");
        } finally {
            truncated.release();
        }
    }
}
