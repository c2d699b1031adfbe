package io.pgstitch.proxy.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** POSIX signal hooks the JDK has no public API for. */
final class Signals {

    private static final Logger log = LoggerFactory.getLogger(Signals.class);

    private Signals() {
    }

    /**
     * Runs {@code action} on every SIGTERM and SIGINT instead of the JVM's immediate exit, so that the
     * first can start a graceful shutdown and a second can cut it short.
     */
    static void onTerminate(Runnable action) {
        for (String name : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> action.run());
        }
    }

    /** Runs {@code action} on every SIGHUP, where the platform has that signal. */
    static void onHangup(Runnable action) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> action.run());
        } catch (IllegalArgumentException e) {
            log.warn("SIGHUP is not available on this platform; reload through the file watcher only");
        }
    }
}
