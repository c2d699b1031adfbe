package io.pgstitch.proxy.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.pgstitch.conf.Route;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.FrontendFrameDecoder;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.AuthenticationOk;
import io.pgstitch.protocol.backend.BackendKeyData;
import io.pgstitch.protocol.backend.BackendMessage;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.NegotiateProtocolVersion;
import io.pgstitch.protocol.backend.ParameterStatus;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.frontend.CancelRequest;
import io.pgstitch.protocol.frontend.GssEncRequest;
import io.pgstitch.protocol.frontend.SslRequest;
import io.pgstitch.protocol.frontend.StartupMessage;
import io.pgstitch.proxy.backend.BackendConnection;
import io.pgstitch.proxy.pool.BackendPool;
import io.pgstitch.proxy.pool.PooledBackend;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Map;

/**
 * One client connection, from its first byte to its close: startup, routing by database ID, a backend from
 * the routed shard's pool (session pooling: it is this client's until the client leaves), then relaying
 * frames both ways on one event loop. When the client leaves, the backend goes back to its pool if it is in
 * a known, idle state (after its running query is cancelled and has ended), and is closed otherwise.
 *
 * <p>Relaying forwards frames untouched (no copy, no decode) except the few the proxy must understand:
 * Terminate from the client; ReadyForQuery and FATAL ErrorResponse from the backend. Backpressure: when one
 * side stops being writable the other side stops being read, so a slow client never makes the proxy buffer
 * a whole result set.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements CancelRegistry.CancelTarget {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    /** Frames a client may pipeline before its login completes; more is not a real client. */
    private static final int MAX_PENDING_FRAMES = 1024;

    /** The session's life. Transitions only go down this list. */
    enum State {
        /** Accepts SSLRequest and GSSENCRequest (answered 'N'), CancelRequest (then closes), StartupMessage. */
        STARTUP,
        /** Routed; waiting for a backend from the pool. Frames the client pipelines are queued, reading is paused. */
        CONNECTING,
        /** Logged in: every client frame goes to the backend, every backend frame to the client. */
        READY,
        /** Closed or closing: whatever still arrives is released. */
        CLOSED
    }

    private final SessionContext context;
    private final FrontendFrameDecoder decoder;
    private final ArrayDeque<Frame> pending = new ArrayDeque<>();
    private State state = State.STARTUP;
    private Channel client;
    private PooledBackend pooled;
    private BackendConnection backend;
    private RequestTracker requests;
    private BackendKeyData issuedKey;
    private String databaseId;
    private boolean admitted;
    private boolean tlsActive;
    private boolean backendSentFatal;
    private boolean clientViolatedProtocol;
    /** Written on this session's loop, read on the backend's when the backend is given back. */
    private volatile Future<Void> cancelInFlight;

    public ClientSession(SessionContext context, FrontendFrameDecoder decoder) {
        this.context = context;
        this.decoder = decoder;
    }

    private void transition(State next) {
        if (next.ordinal() < state.ordinal()) {
            throw new IllegalStateException("session cannot go from " + state + " to " + next);
        }
        state = next;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (state) {
            case STARTUP -> startupPhase(ctx, msg);
            case CONNECTING -> queue((Frame) msg);
            case READY -> relayToBackend((Frame) msg);
            case CLOSED -> ReferenceCountUtil.release(msg);
        }
    }

    private void startupPhase(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof SslRequest) {
            startTls(ctx);
        } else if (msg instanceof GssEncRequest) {
            // GSS encryption is not offered: 'N' tells libpq to go on, with an SSLRequest or in plaintext.
            ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'), ctx.voidPromise());
        } else if (msg instanceof CancelRequest cancel) {
            context.cancels().find(cancel.processId(), cancel.secretKey())
                    .ifPresent(CancelRegistry.CancelTarget::cancel);
            transition(State.CLOSED);
            ctx.close();
        } else if (msg instanceof StartupMessage startup) {
            login(ctx, startup);
        } else {
            ReferenceCountUtil.release(msg);
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "expected a startup packet");
        }
    }

    /**
     * Answers an SSLRequest: 'S' and a TLS handshake when TLS is offered, 'N' otherwise. Bytes the client sent
     * behind its SSLRequest, before our answer, would be plaintext smuggled past the handshake
     * (CVE-2021-23214): they end the connection unread.
     */
    private void startTls(ChannelHandlerContext ctx) {
        if (tlsActive) {
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "SSLRequest received on an encrypted connection");
        }
        if (!context.tls().offered()) {
            ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'), ctx.voidPromise());
            return;
        }
        if (decoder.hasBufferedInput()) {
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "received unencrypted data after SSL request");
        }
        // startTls: the handler lets the first write, our 'S', through in plaintext
        ctx.pipeline().addFirst("tls", new SslHandler(context.tls().contexts().get().newEngine(ctx.alloc()), true));
        tlsActive = true;
        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('S'), ctx.voidPromise());
    }

    private void login(ChannelHandlerContext ctx, StartupMessage message) {
        if (context.tls().required() && !tlsActive) {
            throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "pgstitch accepts only encrypted connections (listen.tls.mode: require)")
                    .withHint("Connect with sslmode=require or stronger.");
        }
        ClientStartup startup = ClientStartup.of(message);
        databaseId = startup.databaseId();
        context.limits().admit(databaseId);
        admitted = true;
        if (startup.negotiate()) {
            write(new NegotiateProtocolVersion(startup.minorVersion(), startup.unrecognizedOptions()));
        }
        Route route = context.routes().get().route(databaseId).orElseThrow(() -> PgException
                .fatal(SqlState.INVALID_CATALOG_NAME, "database \"" + databaseId + "\" is not routed by pgstitch")
                .withHint("Add a route for it under \"routes\" in the configuration, or set \"default_route\"."));
        log.debug("{} database {} user {} -> {} ({})", client.remoteAddress(), databaseId, startup.user(),
                route.shard().name(), route.matchedBy());
        transition(State.CONNECTING);
        client.config().setAutoRead(false);
        context.pools()
                .acquire(client.eventLoop(), route.shard(), route.backendDatabase(), startup.sessionParameters())
                .addListener((Future<PooledBackend> acquired) -> loggedIn(startup, acquired));
    }

    private void loggedIn(ClientStartup startup, Future<PooledBackend> connected) {
        if (!connected.isSuccess()) {
            Throwable cause = connected.cause();
            fatal(cause instanceof PgException pg ? pg
                    : PgException.fatal(SqlState.CONNECTION_FAILURE, String.valueOf(cause.getMessage())));
            return;
        }
        PooledBackend acquired = connected.getNow();
        if (state == State.CLOSED) { // the client left while we waited
            acquired.pool().release(acquired, BackendPool.Release.CLEAN, 0, null);
            return;
        }
        pooled = acquired;
        backend = acquired.connection();
        requests = new RequestTracker(backend.status());
        backend.channel().pipeline().addLast(PooledBackend.SESSION_HANDLER,
                new BackendRelay(this, client.eventLoop(), requests));
        backend.channel().config().setAutoRead(client.isWritable());
        issuedKey = context.cancels().issue(this, startup.usesLongCancelKeys() ? 32 : 4);
        decoder.authenticated();
        write(AuthenticationOk.INSTANCE);
        for (Map.Entry<String, String> parameter : backend.parameters().entrySet()) {
            write(new ParameterStatus(parameter.getKey(), parameter.getValue()));
        }
        write(issuedKey);
        write(ReadyForQuery.of(requests.status()));
        client.flush();
        transition(State.READY);
        while (!pending.isEmpty()) {
            relayToBackend(pending.poll());
        }
        backend.channel().flush();
        client.config().setAutoRead(true);
    }

    private void queue(Frame frame) {
        if (pending.size() >= MAX_PENDING_FRAMES) {
            frame.release();
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                    "more than " + MAX_PENDING_FRAMES + " messages sent before login completed");
        }
        pending.add(frame);
    }

    private void relayToBackend(Frame frame) {
        if (frame.type() == 'X') { // Terminate: the client is done; its backend goes back to the pool
            frame.release();
            closeBoth();
            return;
        }
        requests.fromClient(frame);
        backend.channel().write(frame.content(), backend.channel().voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.READY) {
            backend.channel().flush(); // one flush per read batch, not per message
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (state == State.READY) {
            backend.channel().config().setAutoRead(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    void backendFrame(Frame frame) {
        if (state != State.READY) {
            frame.release();
            return;
        }
        if (frame.type() == 'E' && ErrorResponse.decode(frame.body()).isFatal()) {
            backendSentFatal = true;
        }
        client.write(frame.content(), client.voidPromise());
    }

    void backendReadComplete() {
        if (state == State.READY) {
            client.flush();
        }
    }

    void backendWritabilityChanged(boolean writable) {
        if (state == State.READY) {
            client.config().setAutoRead(writable);
        }
    }

    void backendClosed() {
        if (state != State.READY) {
            return;
        }
        if (backendSentFatal) { // the client already has the server's own reason
            releaseBackendSide();
            client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            fatal(PgException.fatal(SqlState.CONNECTION_FAILURE,
                    "server connection to " + backend.describe() + " closed unexpectedly"));
        }
    }

    void backendFailed(Throwable cause) {
        log.debug("backend connection of {} failed", databaseId, cause);
        if (backend != null) {
            backend.channel().close(); // backendClosed() then tells the client
        }
    }

    @Override
    public void cancel() {
        client.eventLoop().execute(() -> {
            if (backend != null && state == State.READY) {
                cancelInFlight = context.connector().cancel(client.eventLoop(), backend.shard(), backend.keyData());
            }
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeBoth();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof PgException error) {
            clientViolatedProtocol = true;
            fatal(error);
        } else if (root instanceof IOException) {
            log.debug("client {} connection error: {}", ctx.channel().remoteAddress(), root.getMessage());
            closeBoth();
        } else {
            log.error("unexpected failure in session of {}", ctx.channel().remoteAddress(), root);
            fatal(PgException.fatal(SqlState.INTERNAL_ERROR, "internal error in pgstitch: " + root));
        }
    }

    /** Sends a FATAL ErrorResponse and closes the client once it is flushed; the backend goes at once. */
    private void fatal(PgException error) {
        if (state != State.CLOSED && client != null && client.isActive()) {
            log.info("closing client {} (database {}): {} [{}]", client.remoteAddress(), databaseId,
                    error.getMessage(), error.sqlState());
            ByteBuf out = client.alloc().buffer();
            error.toErrorResponse().encode(out);
            client.writeAndFlush(out).addListener(ChannelFutureListener.CLOSE);
        } else if (client != null) {
            client.close();
        }
        releaseBackendSide();
    }

    private void closeBoth() {
        releaseBackendSide();
        if (client != null) {
            client.close();
        }
    }

    /** Idempotent: drops queued frames, the cancel key and the backend connection. */
    private void releaseBackendSide() {
        if (state != State.CLOSED) {
            transition(State.CLOSED);
        }
        while (!pending.isEmpty()) {
            pending.poll().release();
        }
        if (issuedKey != null) {
            context.cancels().remove(issuedKey.processId(), this);
            issuedKey = null;
        }
        if (admitted) {
            context.limits().leave(databaseId);
            admitted = false;
        }
        if (pooled != null) {
            giveBackendBack();
        }
    }

    /**
     * Returns the backend to its pool, or has it closed when its state is unknown. A query still running for a
     * client that left is cancelled first (PgBouncer lets it run); the pool reuses the backend only after that
     * query's ReadyForQuery says idle.
     */
    private void giveBackendBack() {
        PooledBackend leaving = pooled;
        pooled = null;
        backend = null;
        boolean broken = backendSentFatal || clientViolatedProtocol;
        EventLoop backendLoop = leaving.connection().channel().eventLoop();
        // Decided on the backend's loop, where frames are read: nothing can be in flight between the two owners.
        Runnable handBack = () -> {
            BackendPool.Release release = broken || !leaving.connection().channel().isActive()
                    ? BackendPool.Release.DIRTY : requests.release();
            Future<Void> cancel = cancelInFlight;
            if (release == BackendPool.Release.BUSY) {
                BackendConnection connection = leaving.connection();
                cancel = context.connector().cancel(backendLoop, connection.shard(), connection.keyData());
            }
            leaving.pool().release(leaving, release, requests.pendingReadyForQuery(), cancel);
        };
        if (backendLoop.inEventLoop()) {
            handBack.run();
        } else {
            backendLoop.execute(handBack);
        }
    }

    private void write(BackendMessage message) {
        ByteBuf out = client.alloc().buffer();
        message.encode(out);
        client.write(out, client.voidPromise());
    }
}
