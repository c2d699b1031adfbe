package io.pgstitch.conf;

import java.nio.file.Path;

/** {@code listen.tls}: cert and key are PEM files, null when a self-signed certificate is to be generated. */
public record ListenTlsConfig(ListenTlsMode mode, Path cert, Path key) {
}
