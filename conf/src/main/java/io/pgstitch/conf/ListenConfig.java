package io.pgstitch.conf;

/**
 * {@code listen}: where clients connect and how many may. Port 0 picks a free port (tests).
 *
 * @param maxClientConnections            client connections open at once, over all databases
 * @param maxClientConnectionsPerDatabase client connections open at once per database ID; 0 means no limit
 * @param shutdownTimeout                 on SIGTERM, how long open sessions may go on before they are closed
 */
public record ListenConfig(String host, int port, ListenTlsConfig tls, int maxClientConnections,
                           int maxClientConnectionsPerDatabase, java.time.Duration shutdownTimeout) {
}
