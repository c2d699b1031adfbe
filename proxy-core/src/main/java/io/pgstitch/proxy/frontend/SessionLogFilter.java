package io.pgstitch.proxy.frontend;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.MDC;
import org.slf4j.Marker;

/**
 * Logback's first look at every logging call: when the thread works for a client ({@link SessionLog}), the MDC
 * gets {@code client} (its id), {@code database} and {@code user}, so text lines end with them and JSON lines carry
 * them as fields; otherwise they are removed. Costs nothing on threads that do not log. Never decides: NEUTRAL.
 */
public final class SessionLogFilter extends TurboFilter {

    public static final String CLIENT = "client";
    public static final String DATABASE = "database";
    public static final String USER = "user";

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params,
                              Throwable t) {
        // not logger.isEnabledFor(level): that asks the turbo filters again
        if (level == null || !level.isGreaterOrEqual(logger.getEffectiveLevel())) {
            return FilterReply.NEUTRAL;
        }
        LiveClient client = SessionLog.current();
        if (client == null) {
            if (MDC.get(CLIENT) != null) {
                MDC.remove(CLIENT);
                MDC.remove(DATABASE);
                MDC.remove(USER);
            }
            return FilterReply.NEUTRAL;
        }
        MDC.put(CLIENT, Long.toString(client.id()));
        put(DATABASE, client.database());
        put(USER, client.userName());
        return FilterReply.NEUTRAL;
    }

    private static void put(String key, String value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, value);
        }
    }
}
