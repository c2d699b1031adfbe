package io.pgstitch.proxy.pool;

import io.netty.channel.EventLoop;
import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.backend.ParameterStatus;
import io.pgstitch.protocol.frontend.Terminate;
import io.pgstitch.proxy.backend.BackendConnection;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A backend connection that belongs to a pool, with the times the pool's limits are measured by. */
public final class PooledBackend {

    /**
     * The name under which a session adds its handler to the backend's pipeline. On release the pool replaces
     * that handler in one step, so that no frame the backend sends falls between the two.
     */
    public static final String SESSION_HANDLER = "session";

    private final BackendPool pool;
    private final BackendConnection connection;
    private final long createdNanos;
    private long releasedNanos;
    /** What the server reported last (ParameterStatus), kept up to date by whoever reads the backend's frames. */
    private final Map<String, String> parameters;
    /** Transaction and statement modes: the prepared statements it holds for its clients. */
    private final BackendStatements statements;
    /** Transaction and statement modes: its session settings as its last client left them. */
    private final SessionSettings settings = new SessionSettings();

    PooledBackend(BackendPool pool, BackendConnection connection, long createdNanos) {
        this.pool = pool;
        this.connection = connection;
        this.createdNanos = createdNanos;
        this.releasedNanos = createdNanos;
        this.parameters = new ConcurrentHashMap<>(connection.parameters());
        this.statements = new BackendStatements(pool.key().config().maxPreparedStatements());
    }

    /** The prepared statements it holds for transaction-mode clients; used by the lease of the moment. */
    public BackendStatements statements() {
        return statements;
    }

    /** Its session settings; used by the client of the moment, on that client's loop. */
    public SessionSettings settings() {
        return settings;
    }

    /** The reset query ran: no statement is left, the settings are the defaults. */
    void wasReset() {
        statements.clear();
        settings.reset();
    }

    /** The backend's parameters as last reported; a live view, updated on the backend's loop. */
    public Map<String, String> parameters() {
        return parameters;
    }

    /** Records a ParameterStatus the backend sent. */
    public void reported(ByteBuf body) {
        ParameterStatus status = ParameterStatus.decode(body);
        parameters.put(status.name(), status.value());
    }

    /**
     * Gives the backend to a session: {@code handler} takes the place of the idle handler (in one step, so no
     * frame falls between the two), or is added after the login for a new connection.
     */
    public void attach(io.netty.channel.ChannelHandler handler) {
        io.netty.channel.ChannelPipeline pipeline = connection.channel().pipeline();
        if (pipeline.get(IdleBackend.NAME) != null) {
            pipeline.replace(IdleBackend.NAME, SESSION_HANDLER, handler);
        } else {
            pipeline.addLast(SESSION_HANDLER, handler);
        }
    }

    /** Puts {@code cleanup} in place of the session's handler, or of the idle one when it was handed out unused. */
    void attachCleanup(BackendCleanup cleanup) {
        io.netty.channel.ChannelPipeline pipeline = connection.channel().pipeline();
        if (pipeline.get(SESSION_HANDLER) != null) {
            pipeline.replace(SESSION_HANDLER, "cleanup", cleanup);
        } else if (pipeline.get(IdleBackend.NAME) != null) { // handed out, never used
            pipeline.replace(IdleBackend.NAME, "cleanup", cleanup);
        } else {
            pipeline.addLast("cleanup", cleanup);
        }
    }

    /**
     * Takes the backend from its session without a reset (between transactions): the idle handler takes its
     * frames. False when the backend is closed or no session handler holds it.
     */
    boolean detachToIdle() {
        io.netty.channel.ChannelPipeline pipeline = connection.channel().pipeline();
        if (!isActive() || pipeline.get(SESSION_HANDLER) == null) {
            return false;
        }
        pipeline.replace(SESSION_HANDLER, IdleBackend.NAME, IdleBackend.INSTANCE);
        connection.channel().config().setAutoRead(true); // its client may have paused it
        return true;
    }

    /** Has a backend handed out but unfit for its client closed (its slot goes to the next waiter). */
    public void discard() {
        pool.release(this, BackendPool.Release.DIRTY, 0, null);
    }

    /** Hands back a backend that was never used (its client left while it was on its way). */
    public void giveBackUnused() {
        pool.release(this, BackendPool.Release.CLEAN, 0, null);
    }

    public BackendConnection connection() {
        return connection;
    }

    public BackendPool pool() {
        return pool;
    }

    EventLoop loop() {
        return connection.channel().eventLoop();
    }

    /** When the connection was opened, in {@link System#nanoTime()} terms. */
    public long createdNanos() {
        return createdNanos;
    }

    long releasedNanos() {
        return releasedNanos;
    }

    void releasedAt(long nanos) {
        releasedNanos = nanos;
    }

    boolean isActive() {
        return connection.channel().isActive();
    }

    /**
     * Closes the connection with a Terminate first, as a client should (else the server logs "unexpected EOF on
     * client connection"). A Terminate behind an unfinished message would be read as part of it; the server then
     * sees a broken message and ends the connection anyway, which is all that is wanted here.
     */
    void close() {
        io.netty.channel.Channel channel = connection.channel();
        if (channel.isActive()) {
            channel.writeAndFlush(Terminate.INSTANCE.encode(channel.alloc()))
                    .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }
}
