package io.pgstitch.proxy.pool;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.EnumMap;
import java.util.Map;

/**
 * {@code pgstitch.pool.acquisitions}, tagged {@code served}: how each backend handed to a client was found —
 * idle on the client's own event loop, idle on another loop (every one of its events then costs a task hop), or
 * newly opened on the client's loop; and {@code pgstitch.pool.pinned.clients}. Bounded cardinality: four counters
 * for the process.
 */
public final class PoolMeters {

    /** Where an acquired backend came from. */
    public enum Served {
        SAME_LOOP("same_loop"), OTHER_LOOP("other_loop"), NEW("new");

        private final String tag;

        Served(String tag) {
            this.tag = tag;
        }
    }

    private final Map<Served, Counter> counters = new EnumMap<>(Served.class);
    private final Counter pinned;
    /** Told each new backend connection's outcome (shard name, and the failure or null): shard health. */
    private volatile java.util.function.BiConsumer<String, Throwable> connects = (shard, failure) -> { };

    public PoolMeters(MeterRegistry registry) {
        for (Served served : Served.values()) {
            counters.put(served, Counter.builder("pgstitch.pool.acquisitions").tag("served", served.tag)
                    .description("backends handed to clients, by where they came from").register(registry));
        }
        pinned = Counter.builder("pgstitch.pool.pinned.clients").description("transaction- or statement-mode "
                + "clients that used a session-only feature and keep their backend until they leave").register(registry);
    }

    /** A transaction-mode client used a session-only feature: it keeps its backend until it leaves. */
    public void pinned() {
        pinned.increment();
    }

    /** Who hears of each new backend connection's outcome (the admin service's shard health). */
    public void onConnect(java.util.function.BiConsumer<String, Throwable> listener) {
        this.connects = listener;
    }

    void connected(String shard, Throwable failure) {
        connects.accept(shard, failure);
    }

    void served(Served served) {
        counters.get(served).increment();
    }

    public double count(Served served) {
        return counters.get(served).count();
    }
}
