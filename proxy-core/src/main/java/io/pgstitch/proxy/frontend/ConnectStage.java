package io.pgstitch.proxy.frontend;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.pgstitch.conf.Route;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.proxy.auth.ShardLogins;
import io.pgstitch.proxy.auth.LoginExchange;
import io.pgstitch.proxy.backend.BackendLease;
import io.pgstitch.proxy.backend.SetConfigQuery;
import io.pgstitch.proxy.backend.ShardLogin;
import io.pgstitch.proxy.pool.PoolKey;
import io.pgstitch.proxy.pool.PooledBackend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Map;

/**
 * Authenticated: routes the client by its database ID, takes a backend from the pool of (shard, backend database,
 * backend user), gives it the client's startup settings that it lacks, and only then tells the client it is
 * logged in (AuthenticationOk, the backend's ParameterStatus, a proxy-issued BackendKeyData, ReadyForQuery) and
 * hands over to {@link ClientRelay}. What the client pipelines meanwhile is queued, with reading paused.
 */
final class ConnectStage extends ChannelInboundHandlerAdapter {

    static final String NAME = "connect";
    private static final Logger log = LoggerFactory.getLogger(ConnectStage.class);
    /** Frames a client may pipeline before its login completes; more is not a real client. */
    private static final int MAX_PENDING_FRAMES = 1024;

    private final ClientConnection client;
    private final LoginExchange login;
    private final ArrayDeque<Frame> pending = new ArrayDeque<>();
    private ClientRelay relay;
    private PgException settingsFailed;
    private boolean inputShutdown;
    private long waitStartNanos;
    private Runnable acquire;

    ConnectStage(ClientConnection client, LoginExchange login) {
        this.client = client;
        this.login = login;
    }

    void begin() {
        client.onClose(this::released); // before anything can fail: frames queued behind a refusal are released
        client.loggedIn();
        client.admitToDatabase();
        String databaseId = client.databaseId();
        if (client.context().console().serves(databaseId)) { // the admin console, not a shard
            client.decoder().authenticated();
            client.phase(LiveClient.Phase.ACTIVE);
            client.channel().pipeline().replace(this, "console",
                    client.context().console().open(new ConsoleConnection(client)));
            return;
        }
        Route route = client.context().routes().get().route(databaseId).orElseThrow(() -> PgException
                .fatal(SqlState.INVALID_CATALOG_NAME, "database \"" + databaseId + "\" is not routed by pgstitch")
                .withHint("Add a route for it under \"routes\" in the configuration, or set \"default_route\"."));
        ShardLogin shardLogin = ShardLogins.resolve(route, client.startup().user(), login);
        log.debug("{} database {} user {} ({}) -> {} ({}) as {}", client.channel().remoteAddress(), databaseId,
                client.startup().user(), login.mechanism(), route.shard().name(), route.matchedBy(), shardLogin.user());
        relay = new ClientRelay(client, route, shardLogin);
        client.channel().config().setAutoRead(false);
        client.routed(route.shard().name());
        waitStartNanos = System.nanoTime();
        client.waiting(waitStartNanos);
        PoolKey key = PoolKey.session(route, shardLogin.user());
        acquire = () -> client.context().pools().acquire(client.channel().eventLoop(), key, shardLogin)
                .addListener((Future<PooledBackend> acquired) -> acquired(acquired));
        // PAUSE (or KILL) holds new logins of the database until RESUME, before they take a server
        Pauses pauses = client.context().pauses();
        Runnable resumed = () -> client.channel().eventLoop().execute(() -> {
            if (!client.isClosed()) {
                acquire.run();
            }
        });
        if (!pauses.holds(databaseId) || !pauses.whenResumed(databaseId, resumed)) {
            acquire.run();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (client.isClosed()) { // refused (unrouted, over a limit): what was pipelined behind is nobody's
            ReferenceCountUtil.release(msg);
            return;
        }
        Frame frame = (Frame) msg;
        if (pending.size() >= MAX_PENDING_FRAMES) {
            frame.release();
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                    "more than " + MAX_PENDING_FRAMES + " messages sent before login completed");
        }
        pending.add(frame);
    }

    /** A client that half-closes behind its first queries still gets their answers from the relay. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
        } else {
            super.userEventTriggered(ctx, event);
        }
    }

    private void acquired(Future<PooledBackend> acquired) {
        if (!acquired.isSuccess()) {
            client.fatal(ShardFailure.noBackend(acquired.cause()));
            return;
        }
        if (client.isClosed()) { // the client left while we waited
            acquired.getNow().giveBackUnused();
            return;
        }
        if (!relay.session().canUse(acquired.getNow())) { // it holds another client's placeholder variables
            acquired.getNow().discard();
            acquire.run();
            return;
        }
        client.counters().waited(System.nanoTime() - waitStartNanos);
        BackendLease lease = relay.attach(acquired.getNow());
        Map<String, String> settings = StartupParameters.differing(
                StartupParameters.of(client.startup().sessionParameters()), lease.parameters());
        String query = SetConfigQuery.of(settings);
        if (query == null) {
            ready();
            return;
        }
        relay.session().startupSettingsApplied(); // the client's settings go to its first backend
        // The answer is ours: an error is the client's FATAL, as a bad startup parameter is in PostgreSQL.
        lease.send(new Query(query).encode(client.channel().alloc()), this::settingsAnswer);
        lease.flush();
    }

    private void settingsAnswer(Frame frame) {
        try {
            if (frame.type() == ErrorResponse.TYPE && settingsFailed == null) {
                PgException error = PgException.of(ErrorResponse.decode(frame.body()));
                settingsFailed = PgException.fatal(error.sqlState(), error.getMessage());
            } else if (frame.type() == ReadyForQuery.TYPE && !client.isClosed()) {
                if (settingsFailed != null) {
                    client.fatal(settingsFailed);
                } else {
                    ready();
                }
            }
        } finally {
            frame.release();
        }
    }

    private void ready() {
        if (client.isClosed()) {
            return;
        }
        client.onClose(relay::released);
        client.phase(LiveClient.Phase.ACTIVE);
        client.channel().pipeline().replace(this, ClientRelay.NAME, relay);
        try {
            relay.start(pending, inputShutdown);
        } catch (RuntimeException e) { // called from a pool's promise: nothing above would end the session
            ClientGuard.fail(client, e);
        }
    }

    /** The client left before the relay took over. */
    private void released() {
        while (!pending.isEmpty()) {
            pending.poll().release();
        }
        if (relay != null) {
            relay.released();
        }
    }
}
