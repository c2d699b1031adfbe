package io.pgstitch.proxy.frontend;

/**
 * Which client the current thread is working for, so that every log line written meanwhile carries the client's
 * id, database and user ({@link SessionLogFilter} puts them in the MDC only when a line is actually logged). Set
 * around each event of a client's pipeline by {@link SessionLogScope}: a thread-local write and a restore per
 * read batch, nothing per message.
 */
public final class SessionLog {

    private static final ThreadLocal<LiveClient> CURRENT = new ThreadLocal<>();

    private SessionLog() {
    }

    /** From now on the thread works for {@code client}; returns whom it worked for, to give to {@link #exit}. */
    static LiveClient enter(LiveClient client) {
        LiveClient previous = CURRENT.get();
        CURRENT.set(client);
        return previous;
    }

    static void exit(LiveClient previous) {
        if (previous == null) {
            CURRENT.remove();
        } else {
            CURRENT.set(previous);
        }
    }

    /** The client the thread works for now; null outside a session's events. */
    public static LiveClient current() {
        return CURRENT.get();
    }
}
