package io.pgstitch.proxy.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.backend.BackendMessage;

/** What the admin console may do with the client it serves; client's event loop only. */
public interface ConsoleClient extends LiveClient {

    Channel channel();

    /** Writes a message, unflushed. */
    void send(BackendMessage message);

    /** Writes a whole encoded message, unflushed; takes it. */
    void send(ByteBuf message);

    /** Whether the protocol minor version is 2 or more (BackendKeyData then carries 32 secret bytes). */
    boolean longCancelKeys();

    /** Closes the connection after what was written is flushed. */
    void close();

    /** Sends a FATAL error and closes. */
    void fatal(PgException error);

    boolean isClosed();

    /** Runs {@code release} when the session ends, whichever way. */
    void onClose(Runnable release);
}
