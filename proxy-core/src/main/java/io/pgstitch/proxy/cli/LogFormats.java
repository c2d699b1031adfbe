package io.pgstitch.proxy.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import io.pgstitch.conf.LogFormat;
import org.slf4j.LoggerFactory;

import java.util.Iterator;

/**
 * {@code logging.format}: text lines (logback.xml's pattern) or one JSON object per line, from Logback's own
 * {@link JsonEncoder} (timestamp, level, logger, message, MDC: client, database and user on a session's lines,
 * throwable). Applied once at start; a reload does not change it.
 */
final class LogFormats {

    private LogFormats() {
    }

    static void apply(LogFormat format) {
        if (format != LogFormat.JSON || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
            if (it.next() instanceof OutputStreamAppender<ILoggingEvent> appender) {
                JsonEncoder encoder = new JsonEncoder();
                encoder.setContext(context);
                encoder.setWithSequenceNumber(false);
                encoder.setWithNanoseconds(false);
                encoder.setWithContext(false);
                encoder.setWithMessage(false); // the formatted message instead of the pattern and its arguments
                encoder.setWithArguments(false);
                encoder.setWithFormattedMessage(true);
                encoder.start();
                appender.stop();
                appender.setEncoder(encoder);
                appender.start();
            }
        }
    }
}
