package io.pgstitch.it.support;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Fails a test whose run logged what must never be logged: a Netty {@code LEAK:} report (every test JVM runs with
 * {@code -Dio.netty.leakDetectionLevel=paranoid}), an exception that reached the end of a pipeline or escaped an
 * event-loop task, a session's "unexpected failure" (what became FATAL XX000), or any {@link Error}. The events
 * are taken from logback, where all logging goes (Netty's through SLF4J), by an appender added to the root logger.
 *
 * <p>Netty reports a leak only when the garbage collector has found the lost buffer and a later allocation
 * polls for it, so {@link #check} first collects garbage and allocates. A leak is reported in whichever test
 * polls next; run a suite alone ({@code -Dit.test=...}) to pin one down.
 */
public final class LogWatch implements BeforeEachCallback, AfterEachCallback {

    private static final Capture CAPTURE = install();
    private static volatile int mark;

    private static final class Capture extends AppenderBase<ILoggingEvent> {
        final List<String> problems = new CopyOnWriteArrayList<>();

        @Override
        protected void append(ILoggingEvent event) {
            String message = event.getFormattedMessage();
            IThrowableProxy thrown = event.getThrowableProxy();
            String cause = thrown == null ? "" : thrown.getClassName();
            boolean error = thrown != null && cause.endsWith("Error") && !cause.endsWith("AssertionError");
            if (message.contains("LEAK:") || message.contains("unexpected failure")
                    || message.contains("reached at the tail of the pipeline")
                    || message.contains("A task raised an exception")
                    || message.contains("An exception was thrown by") || error) {
                problems.add(event.getLevel() + " " + event.getLoggerName() + " [" + event.getThreadName() + "]: "
                        + message + (thrown == null ? "" : " (" + cause + ": " + thrown.getMessage() + ")"));
            }
        }
    }

    private static Capture install() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Capture capture = new Capture();
        capture.setContext(context);
        capture.setName("pgstitch-it-log-watch");
        capture.start();
        context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(capture);
        return capture;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        acknowledge();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        check(context.getDisplayName());
    }

    /** Everything logged so far is known: later checks look only at what comes after. */
    public static void acknowledge() {
        mark = CAPTURE.problems.size();
    }

    /** The problems logged since the last {@link #acknowledge()}, after provoking pending leak reports. */
    public static List<String> problems() {
        provokeLeakReports();
        List<String> all = CAPTURE.problems;
        return new ArrayList<>(all.subList(Math.min(mark, all.size()), all.size()));
    }

    /** Fails when anything was logged that must not be (see the class comment). */
    public static void check(String what) {
        List<String> problems = problems();
        acknowledge();
        if (!problems.isEmpty()) {
            throw new AssertionError(what + ": the proxy logged " + problems.size() + " problem(s):\n  "
                    + String.join("\n  ", problems));
        }
    }

    /**
     * A lost ByteBuf is reported when the collector has queued its phantom reference and an allocation of a
     * leak-aware buffer polls the queue.
     */
    public static void provokeLeakReports() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            try {
                Thread.sleep(30);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            for (int i = 0; i < 64; i++) {
                ByteBufAllocator.DEFAULT.directBuffer(16).release();
                ByteBufAllocator.DEFAULT.heapBuffer(16).release();
                UnpooledByteBufAllocator.DEFAULT.directBuffer(16).release();
            }
        }
    }
}
