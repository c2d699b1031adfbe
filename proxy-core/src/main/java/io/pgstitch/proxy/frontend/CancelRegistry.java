package io.pgstitch.proxy.frontend;

import io.pgstitch.protocol.backend.BackendKeyData;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The cancel keys pgstitch issues to its clients. A client never sees a backend's real process ID or
 * secret: it gets a proxy-issued {@link BackendKeyData}, and a CancelRequest carrying it is mapped here to
 * whatever currently runs for that client. Forged or stale keys find nothing.
 */
public final class CancelRegistry {

    /** Something that can be cancelled: the backend work of one client session. */
    public interface CancelTarget {
        /**
         * Cancels, and runs {@code taken} once the cancel has been delivered where it applies, as PostgreSQL
         * closes a CancelRequest's connection only after it has signalled the backend.
         */
        void cancel(Runnable taken);

        default void cancel() {
            cancel(() -> { });
        }
    }

    private record Entry(byte[] secretKey, CancelTarget target) {
    }

    private final ConcurrentMap<Integer, Entry> byProcessId = new ConcurrentHashMap<>();
    private final SecureRandom random;

    public CancelRegistry(SecureRandom random) {
        this.random = random;
    }

    /**
     * Issues a fresh key for {@code target}: a positive process ID unique among live sessions and a random
     * secret of {@code secretLength} bytes (4 on protocol 3.0, 32 on 3.2).
     */
    public BackendKeyData issue(CancelTarget target, int secretLength) {
        byte[] secret = new byte[secretLength];
        random.nextBytes(secret);
        Entry entry = new Entry(secret, target);
        while (true) {
            int processId = random.nextInt(Integer.MAX_VALUE - 1) + 1;
            if (byProcessId.putIfAbsent(processId, entry) == null) {
                return new BackendKeyData(processId, secret.clone());
            }
        }
    }

    /** Forgets a key; a CancelRequest that arrives later does nothing. */
    public void remove(int processId, CancelTarget target) {
        byProcessId.computeIfPresent(processId, (id, entry) -> entry.target() == target ? null : entry);
    }

    /** The target of a CancelRequest, when both the process ID and the whole secret match. */
    public Optional<CancelTarget> find(int processId, byte[] secretKey) {
        Entry entry = byProcessId.get(processId);
        // Constant-time comparison: the secret is the only thing standing between a stranger and a cancel.
        if (entry == null || !MessageDigest.isEqual(entry.secretKey(), secretKey)) {
            return Optional.empty();
        }
        return Optional.of(entry.target());
    }

    public int size() {
        return byProcessId.size();
    }
}
