package io.pgstitch.conf;

/** {@code listen}: where clients connect. Port 0 picks a free port (tests). */
public record ListenConfig(String host, int port, ListenTlsConfig tls) {
}
