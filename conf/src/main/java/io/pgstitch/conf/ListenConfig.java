package io.pgstitch.conf;

/**
 * {@code listen}: where clients connect and how many may. Port 0 picks a free port (tests).
 *
 * @param maxClientConnections            client connections open at once, over all databases
 * @param maxClientConnectionsPerDatabase client connections open at once per database ID; 0 means no limit
 * @param shutdownTimeout                 on SIGTERM, how long open sessions may go on before they are closed
 * @param maxMessageSize                  the longest message (its length field) that pgstitch reads whole: what it
 *                                        inspects (a shard's ErrorResponse, a client's Query, Parse, Bind and
 *                                        FunctionCall when RPC functions are configured) is buffered up to this;
 *                                        what it only relays (DataRow, CopyData...) streams through at any size
 */
public record ListenConfig(String host, int port, ListenTlsConfig tls, int maxClientConnections,
                           int maxClientConnectionsPerDatabase, java.time.Duration shutdownTimeout,
                           int maxMessageSize) {

    /** The default of {@code listen.max_message_size}: 64 MiB. */
    public static final int DEFAULT_MAX_MESSAGE_SIZE = 64 << 20;
    /** PostgreSQL's own limit on a message (MaxAllocSize - 1: a length field of at most 1 GiB - 2). */
    public static final int MAX_MESSAGE_SIZE = 0x3fffffff - 1;

    /** This configuration with another {@code max_message_size}, the one listen setting a reload applies. */
    public ListenConfig withMaxMessageSize(int size) {
        return new ListenConfig(host, port, tls, maxClientConnections, maxClientConnectionsPerDatabase,
                shutdownTimeout, size);
    }
}
