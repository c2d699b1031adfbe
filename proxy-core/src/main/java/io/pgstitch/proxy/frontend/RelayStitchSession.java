package io.pgstitch.proxy.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.pgstitch.conf.Route;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.backend.BackendMessage;
import io.pgstitch.proxy.backend.BackendConnector;
import io.pgstitch.proxy.backend.BackendLease;
import io.pgstitch.proxy.backend.ShardLogin;
import io.pgstitch.proxy.pool.PoolKey;
import io.pgstitch.proxy.pool.PooledBackend;
import io.pgstitch.proxy.rpc.RpcSettings;
import io.pgstitch.proxy.rpc.StitchedRequest;

/** What a {@link StitchedRequest} needs of the {@link ClientRelay} it runs in; session loop only. */
final class RelayStitchSession implements StitchedRequest.Session {

    private final ClientRelay relay;
    private final ClientConnection client;
    private final Route route;
    private final ShardLogin login;
    private final RpcSettings rpc;

    RelayStitchSession(ClientRelay relay, ClientConnection client, Route route, ShardLogin login, RpcSettings rpc) {
        this.relay = relay;
        this.client = client;
        this.route = route;
        this.login = login;
        this.rpc = rpc;
    }

    @Override
    public BackendLease sessionBackend() {
        return relay.backend();
    }

    @Override
    public EventLoop loop() {
        return client.channel().eventLoop();
    }

    @Override
    public BackendConnector connector() {
        return client.context().connector();
    }

    @Override
    public boolean clientWritable() {
        return client.channel().isWritable();
    }

    @Override
    public String reportedParameter(String name) {
        return relay.reportedParameter(name);
    }

    /** An RPC connection: same shard, database and backend user as the session, a pool of its own. */
    @Override
    public Future<PooledBackend> acquireRpcBackend() {
        return client.context().pools().acquire(loop(), PoolKey.rpc(route.shard(), route.backendDatabase(),
                login.user(), rpc.poolSize(), rpc.waitTimeout()), login);
    }

    @Override
    public void toClient(Frame frame) {
        client.write(frame.content());
    }

    @Override
    public void toClient(ByteBuf message) {
        client.write(message);
    }

    @Override
    public void toClient(BackendMessage message) {
        client.write(message);
    }

    @Override
    public void flushClient() {
        client.channel().flush();
    }

    @Override
    public ByteBufAllocator alloc() {
        return client.channel().alloc();
    }

    @Override
    public void stitchedRequestDone(boolean skipUntilSync) {
        relay.stitchedRequestDone(skipUntilSync);
    }
}
