package io.pgstitch.proxy.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgstitch.protocol.FrontendFrameDecoder;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.BackendMessage;
import io.pgstitch.proxy.metrics.ClientCounters;
import io.pgstitch.proxy.pool.PooledBackend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * What one client connection carries from stage to stage ({@link StartupStage}, {@link AuthenticationStage},
 * {@link ClientRelay}): the channel, what the client asked for, the limits it is counted in, the login timer,
 * and the one way a session ends: {@link #fatal} or {@link #close}, which release whatever the current stage
 * holds ({@link #onClose}). Client's event loop only, except the read-only {@link LiveClient} view the admin
 * console and HTTP API take of it (listed in the {@link ClientRegistry} from its startup packet on).
 */
public final class ClientConnection implements LiveClient {

    private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

    private final Channel channel;
    private final SessionContext context;
    private final FrontendFrameDecoder decoder;
    private ClientStartup startup;
    private boolean tls;
    private boolean admitted;
    private String admittedDatabase;
    private ScheduledFuture<?> loginTimer;
    private Runnable onClose;
    private boolean closed;
    private boolean violatedProtocol;
    // control plane: what LiveClient shows, and the client's traffic counters
    private final long id;
    private final long connectedAtMillis = System.currentTimeMillis();
    private final ClientCounters counters;
    private volatile Phase phase = Phase.LOGIN;
    private volatile long waitingSinceNanos;
    private volatile String shard;
    private volatile PooledBackend server;

    ClientConnection(Channel channel, SessionContext context, FrontendFrameDecoder decoder) {
        this.channel = channel;
        this.context = context;
        this.decoder = decoder;
        this.id = context.clients().nextId();
        this.counters = context.traffic().newClient();
    }

    Channel channel() {
        return channel;
    }

    SessionContext context() {
        return context;
    }

    FrontendFrameDecoder decoder() {
        return decoder;
    }

    ClientStartup startup() {
        return startup;
    }

    /** The database ID the client asked for; null before its startup packet. */
    String databaseId() {
        return startup == null ? null : startup.databaseId();
    }

    boolean tls() {
        return tls;
    }

    void tlsStarted() {
        tls = true;
    }

    /** The client broke the protocol: its backend's state is unknown and it is not reused. */
    boolean violatedProtocol() {
        return violatedProtocol;
    }

    void protocolViolated() {
        violatedProtocol = true;
    }

    boolean isClosed() {
        return closed;
    }

    InetAddress address() {
        ClientOrigin origin = channel.attr(ClientOrigin.KEY).get(); // set for sessions of SQL over HTTP
        return (origin != null ? origin.address() : channel.remoteAddress()) instanceof InetSocketAddress inet
                ? inet.getAddress() : null;
    }

    /** A client that never finishes its login must not hold a connection slot forever. */
    void startLoginTimer() {
        loginTimer = channel.eventLoop().schedule(() -> fatal(PgException.fatal(SqlState.QUERY_CANCELED,
                "canceling authentication due to timeout")),
                context.authenticator().timeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    void loggedIn() {
        if (loginTimer != null) {
            loginTimer.cancel(false);
            loginTimer = null;
        }
    }

    /** The startup packet was accepted: counted in the total client limit from now on. */
    void started(ClientStartup startup) {
        this.startup = startup;
        context.limits().admit();
        admitted = true;
        context.clients().add(this);
    }

    /** Authenticated: counted in its database's limit from now on. */
    void admitToDatabase() {
        context.limits().admitTo(startup.databaseId());
        admittedDatabase = startup.databaseId();
    }

    /** What to release when the session ends; the stage that holds resources sets it. */
    void onClose(Runnable release) {
        this.onClose = release;
    }

    void write(BackendMessage message) {
        write(message.encode(channel.alloc()));
    }

    /** Writes a complete message (unflushed), or a run of one type; takes it. Counted as sent to the client. */
    void write(ByteBuf message) {
        counters.sent(message);
        channel.write(message, channel.voidPromise());
    }

    /** Sends a FATAL ErrorResponse and closes the client once it is flushed; the backend side goes at once. */
    void fatal(PgException error) {
        context.traffic().errorOf(error.sqlState());
        if (!closed && channel.isActive()) {
            LiveClient previous = SessionLog.enter(this); // also when a backend event or a timer ends the session
            try {
                log.info("closing client {} (database {}): {} [{}]", channel.remoteAddress(), databaseId(),
                        error.getMessage(), error.sqlState());
            } finally {
                SessionLog.exit(previous);
            }
            channel.writeAndFlush(error.toErrorResponse().encode(channel.alloc()))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
        release();
    }

    /** Closes the client after what was written is flushed; the backend side goes at once. */
    void close() {
        release();
        channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /** Idempotent: the login timer, the stage's resources, the cancel key and the client limits. */
    void release() {
        if (closed) {
            return;
        }
        closed = true;
        context.clients().remove(this);
        counters.closed();
        server = null;
        loggedIn();
        if (onClose != null) {
            onClose.run();
            onClose = null;
        }
        if (admitted) {
            context.limits().leave();
            admitted = false;
        }
        if (admittedDatabase != null) {
            context.limits().leaveFrom(admittedDatabase);
            admittedDatabase = null;
        }
    }

    // LiveClient: the control plane's view

    /** Routed: its traffic is counted for {@code shard}. */
    void routed(String shard) {
        this.shard = shard;
        counters.routed(startup.databaseId(), shard);
    }

    void phase(Phase phase) {
        this.phase = phase;
    }

    /** Waiting for a server (a full pool, or held by PAUSE) since {@code sinceNanos}, a {@link System#nanoTime}. */
    void waiting(long sinceNanos) {
        waitingSinceNanos = sinceNanos; // before the phase: whoever sees WAITING sees this wait's start
        phase = Phase.WAITING;
    }

    void serving(PooledBackend server) {
        this.server = server;
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public String userName() {
        return startup == null ? null : startup.user();
    }

    @Override
    public String database() {
        return databaseId();
    }

    @Override
    public SocketAddress remoteAddress() {
        return channel.remoteAddress();
    }

    @Override
    public SocketAddress localAddress() {
        return channel.localAddress();
    }

    @Override
    public long connectedAtMillis() {
        return connectedAtMillis;
    }

    @Override
    public Phase phase() {
        return phase;
    }

    @Override
    public long waitingNanos() {
        return phase == Phase.WAITING ? System.nanoTime() - waitingSinceNanos : 0;
    }

    @Override
    public boolean encrypted() {
        return tls;
    }

    @Override
    public String applicationName() {
        ClientStartup current = startup;
        return current == null ? "" : current.sessionParameters().getOrDefault("application_name", "");
    }

    @Override
    public String shard() {
        return shard;
    }

    @Override
    public PooledBackend server() {
        return server;
    }

    @Override
    public ClientCounters counters() {
        return counters;
    }

    @Override
    public void terminate(String reason) {
        channel.eventLoop().execute(() -> fatal(PgException.fatal(SqlState.ADMIN_SHUTDOWN, reason)));
    }
}
