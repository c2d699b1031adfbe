package io.pgstitch.proxy.rpc;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;

/**
 * The one place RPC calls are counted and timed, for the admin console and {@code /metrics} to expose: meter
 * {@code pgstitch.rpc.calls}, tagged {@code outcome}.
 */
public final class RpcMetrics {

    /** How an RPC call ended. */
    public enum Outcome {
        /** Ran on an RPC connection and succeeded. */
        OK,
        /** Ran (or waited for a connection) and failed: the function's error, a pool timeout, a lost connection. */
        ERROR,
        /** Refused because the session was in a transaction block ({@code rpc.in_transaction: reject}). */
        REJECTED;

        String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Timer ok;
    private final Timer error;
    private final Timer rejected;

    public RpcMetrics(MeterRegistry registry) {
        this.ok = timer(registry, Outcome.OK);
        this.error = timer(registry, Outcome.ERROR);
        this.rejected = timer(registry, Outcome.REJECTED);
    }

    private static Timer timer(MeterRegistry registry, Outcome outcome) {
        return Timer.builder("pgstitch.rpc.calls")
                .description("RPC function calls run on RPC connections, from the wait for a connection to the end")
                .tag("outcome", outcome.tag())
                .publishPercentileHistogram() // for latency percentiles in /metrics and the Grafana dashboard
                .minimumExpectedValue(java.time.Duration.ofMillis(1))
                .maximumExpectedValue(java.time.Duration.ofMinutes(15))
                .register(registry);
    }

    void record(Outcome outcome, Duration duration) {
        timerOf(outcome).record(duration);
    }

    public Timer timerOf(Outcome outcome) {
        return switch (outcome) {
            case OK -> ok;
            case ERROR -> error;
            case REJECTED -> rejected;
        };
    }
}
