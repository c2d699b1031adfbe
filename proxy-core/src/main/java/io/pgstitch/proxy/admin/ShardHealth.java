package io.pgstitch.proxy.admin;

import io.pgstitch.conf.ShardConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether each shard answers like a PostgreSQL server. Learnt first from the pools: a new backend connection that
 * logs in means up. A failed one, and every few seconds after that (on the admin thread), is checked with a probe:
 * a TCP connection and an SSLRequest, answered 'S' or 'N' (no login, so no credentials and no backend process).
 * A shard no client has reached yet is not probed (its state is unknown): a probe must never be the first thing
 * a server sees from pgstitch. The state feeds the {@code pgstitch.shard.up} gauge, SHOW SHARDS and
 * {@code /api/v1/status}.
 */
public final class ShardHealth {

    /** What the last check of a shard found. */
    public record State(boolean up, long checkedAtMillis, String problem) {
        static final State UNKNOWN = new State(false, 0, "no client has reached it yet");
    }

    private static final Logger log = LoggerFactory.getLogger(ShardHealth.class);
    private static final int SSL_REQUEST_CODE = 80877103;
    private static final int TIMEOUT_MILLIS = 2000;

    private final Map<String, State> states = new ConcurrentHashMap<>();
    /** Shards pgstitch has connected to (or tried to): the ones the periodic probe looks at. */
    private final java.util.Set<String> watched = ConcurrentHashMap.newKeySet();

    public State state(String shard) {
        return states.getOrDefault(shard, State.UNKNOWN);
    }

    /** Whether the shard answered its last check; empty before the first. */
    public java.util.Optional<Boolean> up(String shard) {
        State state = states.get(shard);
        return state == null ? java.util.Optional.empty() : java.util.Optional.of(state.up());
    }

    /**
     * A pool opened a backend connection to {@code shard} ({@code failure} null), or failed to. Any thread: a map
     * write per new connection.
     *
     * @return true when the failure should be probed now
     */
    boolean connected(String shard, Throwable failure) {
        watched.add(shard);
        if (failure == null) {
            record(shard, new State(true, System.currentTimeMillis(), null));
            return false;
        }
        return true;
    }

    /** Probes the shards pgstitch has reached before; blocking (two seconds a shard at most): the admin thread. */
    void check(Collection<ShardConfig> shards) {
        states.keySet().retainAll(shards.stream().map(ShardConfig::name).toList());
        for (ShardConfig shard : shards) {
            if (watched.contains(shard.name())) {
                record(shard.name(), probe(shard));
            }
        }
    }

    private void record(String shard, State next) {
        State previous = states.put(shard, next);
        if (previous == null ? !next.up() : previous.up() != next.up()) {
            if (next.up()) {
                log.info("shard {} is up again", shard);
            } else {
                log.warn("shard {} is down: {}", shard, next.problem());
            }
        }
    }


    private static State probe(ShardConfig shard) {
        long now = System.currentTimeMillis();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(shard.host(), shard.port()), TIMEOUT_MILLIS);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeInt(8);
            out.writeInt(SSL_REQUEST_CODE);
            out.flush();
            int answer = new DataInputStream(socket.getInputStream()).read();
            if (answer == 'S' || answer == 'N') {
                return new State(true, now, null);
            }
            return new State(false, now, answer < 0 ? "closed the connection without answering an SSLRequest"
                    : "answered an SSLRequest with byte " + answer + ", not like a PostgreSQL server");
        } catch (IOException e) {
            return new State(false, now, shard.host() + ":" + shard.port() + ": " + e.getMessage());
        }
    }
}
