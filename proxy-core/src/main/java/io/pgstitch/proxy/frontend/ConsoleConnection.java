package io.pgstitch.proxy.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.backend.BackendMessage;
import io.pgstitch.proxy.metrics.ClientCounters;
import io.pgstitch.proxy.pool.PooledBackend;

import java.net.SocketAddress;

/** A {@link ClientConnection} handed to the admin console, without widening the connection's own surface. */
final class ConsoleConnection implements ConsoleClient {

    private final ClientConnection client;

    ConsoleConnection(ClientConnection client) {
        this.client = client;
    }

    @Override
    public Channel channel() {
        return client.channel();
    }

    @Override
    public void send(BackendMessage message) {
        client.write(message);
    }

    @Override
    public void send(ByteBuf message) {
        client.write(message);
    }

    @Override
    public boolean longCancelKeys() {
        return client.startup().usesLongCancelKeys();
    }

    @Override
    public void close() {
        client.close();
    }

    @Override
    public void fatal(PgException error) {
        client.fatal(error);
    }

    @Override
    public boolean isClosed() {
        return client.isClosed();
    }

    @Override
    public void onClose(Runnable release) {
        client.onClose(release);
    }

    @Override
    public long id() {
        return client.id();
    }

    @Override
    public String userName() {
        return client.userName();
    }

    @Override
    public String database() {
        return client.database();
    }

    @Override
    public SocketAddress remoteAddress() {
        return client.remoteAddress();
    }

    @Override
    public SocketAddress localAddress() {
        return client.localAddress();
    }

    @Override
    public long connectedAtMillis() {
        return client.connectedAtMillis();
    }

    @Override
    public Phase phase() {
        return client.phase();
    }

    @Override
    public long waitingNanos() {
        return client.waitingNanos();
    }

    @Override
    public boolean encrypted() {
        return client.encrypted();
    }

    @Override
    public String applicationName() {
        return client.applicationName();
    }

    @Override
    public String shard() {
        return client.shard();
    }

    @Override
    public PooledBackend server() {
        return client.server();
    }

    @Override
    public ClientCounters counters() {
        return client.counters();
    }

    @Override
    public void terminate(String reason) {
        client.terminate(reason);
    }
}
