package io.pgstitch.proxy.session;

import io.netty.handler.ssl.SslContext;
import io.pgstitch.conf.ListenTlsMode;

import java.util.function.Supplier;

/**
 * TLS towards clients as configured: the mode, and where the current server context comes from (null when
 * the mode is {@code disable}). The supplier may change the context (certificate reload); each new connection
 * asks it once.
 */
public record ClientTls(ListenTlsMode mode, Supplier<SslContext> contexts) {

    public static ClientTls disabled() {
        return new ClientTls(ListenTlsMode.DISABLE, null);
    }

    public boolean offered() {
        return mode != ListenTlsMode.DISABLE && contexts != null;
    }

    public boolean required() {
        return mode == ListenTlsMode.REQUIRE;
    }
}
