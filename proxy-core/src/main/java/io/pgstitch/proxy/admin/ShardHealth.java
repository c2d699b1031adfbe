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
 * Whether each shard answers like a PostgreSQL server: a TCP connection and an SSLRequest, answered 'S' or 'N'
 * (no login, so no credentials and no backend process). Checked every few seconds on the admin thread; the state
 * feeds the {@code pgstitch.shard.up} gauge, SHOW SHARDS and {@code /api/v1/status}.
 */
public final class ShardHealth {

    /** What the last check of a shard found. */
    public record State(boolean up, long checkedAtMillis, String problem) {
        static final State UNKNOWN = new State(false, 0, "not checked yet");
    }

    private static final Logger log = LoggerFactory.getLogger(ShardHealth.class);
    private static final int SSL_REQUEST_CODE = 80877103;
    private static final int TIMEOUT_MILLIS = 2000;

    private final Map<String, State> states = new ConcurrentHashMap<>();

    public State state(String shard) {
        return states.getOrDefault(shard, State.UNKNOWN);
    }

    /** Whether the shard answered its last check; empty before the first. */
    public java.util.Optional<Boolean> up(String shard) {
        State state = states.get(shard);
        return state == null ? java.util.Optional.empty() : java.util.Optional.of(state.up());
    }

    /** Checks each shard now; blocking (at most two seconds a shard), so never on an event loop. */
    void check(Collection<ShardConfig> shards) {
        states.keySet().retainAll(shards.stream().map(ShardConfig::name).toList());
        for (ShardConfig shard : shards) {
            State next = probe(shard);
            State previous = states.put(shard.name(), next);
            if (previous != null && previous.up() != next.up()) {
                if (next.up()) {
                    log.info("shard {} is up again", shard.name());
                } else {
                    log.warn("shard {} is down: {}", shard.name(), next.problem());
                }
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
