package io.pgstitch.proxy.frontend;

import io.netty.handler.ssl.SslContext;
import io.pgstitch.tls.ServerTls;
import io.pgstitch.conf.ListenTlsMode;

import java.util.function.Supplier;

/**
 * TLS towards clients as configured: the mode, where the current server context comes from (null when the mode
 * is {@code disable}), and whether a client certificate's common name must be the user name
 * ({@code client_cert: verify-full}; the handshake itself checks the chain). The supplier may change the
 * context (certificate reload); each new connection asks it once.
 */
public record ClientTls(ListenTlsMode mode, Supplier<SslContext> contexts, boolean certificateNamesUser) {

    public static ClientTls disabled() {
        return new ClientTls(ListenTlsMode.DISABLE, null, false);
    }

    public boolean offered() {
        return mode != ListenTlsMode.DISABLE && contexts != null;
    }

    /** Re-reads the certificate files if they changed (blocking file I/O: off the event loops). */
    public void reloadFiles() {
        if (contexts instanceof ServerTls files) {
            files.reloadIfChanged();
        }
    }

    public boolean required() {
        return mode == ListenTlsMode.REQUIRE;
    }
}
