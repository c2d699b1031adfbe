package io.pgstitch.proxy.frontend;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * PAUSE and RESUME: which database IDs (or all) hold their clients. A held client is not refused: its next
 * transaction (or its login's server connection) waits until RESUME, then goes on. The relay asks
 * {@link #holds} only when a client starts a transaction, and that costs one volatile read while nothing is paused.
 */
public final class Pauses {

    private record Waiter(String databaseId, Runnable resume) {
    }

    private volatile boolean any;
    private boolean all;
    private final Set<String> databases = new LinkedHashSet<>();
    private final List<Waiter> waiters = new ArrayList<>();

    /** Whether a new transaction of {@code databaseId} must wait. */
    public boolean holds(String databaseId) {
        return any && heldNow(databaseId);
    }

    private synchronized boolean heldNow(String databaseId) {
        return all || databases.contains(databaseId);
    }

    /**
     * Runs {@code resume} (on the resuming thread: hop to your own loop) once {@code databaseId} is resumed.
     *
     * @return false, without keeping {@code resume}, when it is not held (any more): go on at once
     */
    public synchronized boolean whenResumed(String databaseId, Runnable resume) {
        if (!heldNow(databaseId)) {
            return false;
        }
        waiters.add(new Waiter(databaseId, resume));
        return true;
    }

    /** Holds {@code databaseId}, or every database when null. */
    public synchronized void pause(String databaseId) {
        if (databaseId == null) {
            all = true;
        } else {
            databases.add(databaseId);
        }
        any = true;
    }

    /** Lets {@code databaseId} go on (every database when null); its held clients continue. */
    public void resume(String databaseId) {
        List<Runnable> released = new ArrayList<>();
        synchronized (this) {
            if (databaseId == null) {
                all = false;
                databases.clear();
            } else {
                databases.remove(databaseId);
            }
            any = all || !databases.isEmpty();
            waiters.removeIf(waiter -> !heldNow(waiter.databaseId()) && released.add(waiter.resume()));
        }
        released.forEach(Runnable::run);
    }

    public synchronized boolean allPaused() {
        return all;
    }

    public synchronized boolean paused(String databaseId) {
        return all || databases.contains(databaseId);
    }

    /** Database IDs paused one by one (not through a PAUSE of everything). */
    public synchronized Set<String> pausedDatabases() {
        return Set.copyOf(databases);
    }
}
