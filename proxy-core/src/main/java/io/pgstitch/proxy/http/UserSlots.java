package io.pgstitch.proxy.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * {@code http.limits.max_concurrent_requests}: how many requests (and open WebSockets) each user has at once.
 * Counted once the user is logged in, so that strangers with wrong passwords cannot use up a user's share.
 */
final class UserSlots {

    private final ConcurrentMap<String, Integer> inUse = new ConcurrentHashMap<>();

    /** Takes a slot unless {@code user} holds {@code max} already. */
    boolean tryAcquire(String user, int max) {
        boolean[] taken = new boolean[1];
        inUse.compute(user, (name, count) -> {
            int current = count == null ? 0 : count;
            if (current >= max) {
                return count;
            }
            taken[0] = true;
            return current + 1;
        });
        return taken[0];
    }

    void release(String user) {
        inUse.computeIfPresent(user, (name, count) -> count <= 1 ? null : count - 1);
    }

    int inUse(String user) {
        return inUse.getOrDefault(user, 0);
    }
}
