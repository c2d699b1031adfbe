package io.pgstitch.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The traffic of all clients: per database ID the totals the admin console's SHOW STATS reports (PgBouncer's
 * columns), and the Micrometer meters behind {@code /metrics}: {@code pgstitch.transactions} and
 * {@code pgstitch.queries} (timers with histograms), {@code pgstitch.client.bytes} (direction in|out),
 * {@code pgstitch.pool.wait} (timer), {@code pgstitch.client.errors} (SQLSTATE class). Meters are tagged by
 * shard, and by database only when {@code admin.metrics.per_database} is on: thousands of tenants would otherwise
 * make thousands of series.
 */
public final class TrafficStats {

    private record Key(String databaseId, String shard) {
    }

    private final MeterRegistry registry;
    private final boolean perDatabase;
    private final Map<Key, Totals> totals = new ConcurrentHashMap<>();
    private final Map<Tags, MeterSet> meterSets = new ConcurrentHashMap<>();
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();

    /**
     * @param perDatabase whether meters carry a database tag; fixed for the process, as Prometheus wants one set of
     *                    label names per metric
     */
    public TrafficStats(MeterRegistry registry, boolean perDatabase) {
        this.registry = registry;
        this.perDatabase = perDatabase;
    }

    /** Counters for a new client. */
    public ClientCounters newClient() {
        return new ClientCounters(this);
    }

    Totals totals(String databaseId, String shard) {
        return totals.computeIfAbsent(new Key(databaseId, shard), key -> new Totals(key.databaseId(),
                meterSets.computeIfAbsent(perDatabase
                        ? Tags.of("shard", key.shard(), "database", key.databaseId())
                        : Tags.of("shard", key.shard()), this::newMeterSet)));
    }

    private MeterSet newMeterSet(Tags tags) {
        return new MeterSet(registry, tags);
    }

    /** An ErrorResponse was sent to a client (also the FATAL ones that end a session). */
    public void error(String sqlStateClass) {
        errors.computeIfAbsent(sqlStateClass, c -> Counter.builder("pgstitch.client.errors").tag("class", c)
                .description("ErrorResponses sent to clients, by SQLSTATE class").register(registry)).increment();
    }

    /** Counts an error pgstitch raised itself, by its SQLSTATE. */
    public void errorOf(String sqlState) {
        error(ErrorClass.of(sqlState));
    }

    /** The totals of each database ID seen so far, summed over the shards it was routed to. */
    public List<DatabaseTotals> databases() {
        Map<String, DatabaseTotals> sums = new java.util.TreeMap<>();
        for (Totals each : totals.values()) {
            sums.merge(each.databaseId, each.snapshot(), DatabaseTotals::plus);
        }
        return new ArrayList<>(sums.values());
    }

    /**
     * One database ID's totals; times in microseconds, as PgBouncer reports them.
     */
    public record DatabaseTotals(String database, long transactions, long queries, long received, long sent,
                                 long transactionMicros, long queryMicros, long waitMicros) {

        DatabaseTotals plus(DatabaseTotals other) {
            return new DatabaseTotals(database, transactions + other.transactions, queries + other.queries,
                    received + other.received, sent + other.sent, transactionMicros + other.transactionMicros,
                    queryMicros + other.queryMicros, waitMicros + other.waitMicros);
        }

        /** The difference since {@code earlier}, for the averages of a stats period. */
        public DatabaseTotals minus(DatabaseTotals earlier) {
            return earlier == null ? this : new DatabaseTotals(database, transactions - earlier.transactions,
                    queries - earlier.queries, received - earlier.received, sent - earlier.sent,
                    transactionMicros - earlier.transactionMicros, queryMicros - earlier.queryMicros,
                    waitMicros - earlier.waitMicros);
        }
    }

    /** The meters of one shard (and database, when per-database meters are on). */
    static final class MeterSet {
        final Timer transactions;
        final Timer queries;
        final Timer wait;
        final LongAdder in = new LongAdder();
        final LongAdder out = new LongAdder();

        MeterSet(MeterRegistry registry, Tags tags) {
            transactions = timer("pgstitch.transactions", "client transactions, first request to ReadyForQuery idle",
                    tags, registry);
            queries = timer("pgstitch.queries", "client requests, first message to their ReadyForQuery", tags,
                    registry);
            wait = timer("pgstitch.pool.wait", "time clients waited for a server connection (and behind PAUSE)",
                    tags, registry);
            FunctionCounter.builder("pgstitch.client.bytes", in, LongAdder::doubleValue).tags(tags)
                    .tag("direction", "in").baseUnit("bytes").description("bytes received from clients")
                    .register(registry);
            FunctionCounter.builder("pgstitch.client.bytes", out, LongAdder::doubleValue).tags(tags)
                    .tag("direction", "out").baseUnit("bytes").description("bytes sent to clients")
                    .register(registry);
        }

        private static Timer timer(String name, String description, Tags tags, MeterRegistry registry) {
            return Timer.builder(name).description(description).tags(tags).publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                    .register(registry);
        }
    }

    /** One database ID on one shard: SHOW STATS's totals and the meters they feed. Any thread. */
    static final class Totals {
        private final String databaseId;
        private final MeterSet meters;
        private final LongAdder transactions = new LongAdder();
        private final LongAdder queries = new LongAdder();
        private final LongAdder received = new LongAdder();
        private final LongAdder sent = new LongAdder();
        private final LongAdder transactionNanos = new LongAdder();
        private final LongAdder queryNanos = new LongAdder();
        private final LongAdder waitNanos = new LongAdder();

        Totals(String databaseId, MeterSet meters) {
            this.databaseId = databaseId;
            this.meters = meters;
        }

        /** A query ended (queryNanos ≥ 0), perhaps a transaction too (transactionNanos ≥ 0), with bytes since. */
        void add(long queryNanos, long transactionNanos, long in, long out) {
            if (queryNanos >= 0) {
                queries.increment();
                this.queryNanos.add(queryNanos);
                meters.queries.record(queryNanos, TimeUnit.NANOSECONDS);
            }
            if (transactionNanos >= 0) {
                transactions.increment();
                this.transactionNanos.add(transactionNanos);
                meters.transactions.record(transactionNanos, TimeUnit.NANOSECONDS);
            }
            received.add(in);
            sent.add(out);
            meters.in.add(in);
            meters.out.add(out);
        }

        void waited(long nanos) {
            waitNanos.add(nanos);
            meters.wait.record(nanos, TimeUnit.NANOSECONDS);
        }

        DatabaseTotals snapshot() {
            return new DatabaseTotals(databaseId, transactions.sum(), queries.sum(), received.sum(), sent.sum(),
                    transactionNanos.sum() / 1000, queryNanos.sum() / 1000, waitNanos.sum() / 1000);
        }
    }
}
