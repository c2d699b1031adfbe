package io.pgstitch.proxy.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgstitch.conf.Route;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.FrontendMessageType;
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
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.proxy.auth.LoginExchange;
import io.pgstitch.proxy.backend.BackendConnector;
import io.pgstitch.proxy.pool.BackendPool;
import io.pgstitch.proxy.pool.PoolKey;
import io.pgstitch.proxy.pool.PooledBackend;
import io.pgstitch.tls.ServerTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One client connection, from its first byte to its close: startup, authentication ({@link LoginExchange}),
 * routing by database ID, a backend from the routed shard's pool (session pooling: it is this client's until
 * the client leaves), then relaying
 * frames both ways on one event loop. When the client leaves, the backend goes back to its pool if it is in
 * a known, idle state (after its running query is cancelled and has ended), and is closed otherwise.
 *
 * <p>Relaying forwards frames untouched (no copy, no decode) except the few the proxy must understand:
 * Terminate from the client; ReadyForQuery, ParameterStatus and FATAL ErrorResponse from the backend. When RPC
 * functions are configured, an {@link RpcRouter} looks at each Query and extended-protocol message; a request
 * that calls one runs as a {@link StitchedRequest}, and what the client sends meanwhile waits its turn.
 * Backpressure: when one side stops being writable the other side stops being read, so a slow client never
 * makes the proxy buffer a whole result set.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements CancelRegistry.CancelTarget {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    /** Frames a client may pipeline before its login completes; more is not a real client. */
    private static final int MAX_PENDING_FRAMES = 1024;

    /** The session's life. Transitions only go down this list. */
    enum State {
        /** Accepts SSLRequest and GSSENCRequest (answered 'N'), CancelRequest (then closes), StartupMessage. */
        STARTUP,
        /** The client proves who it is ({@link LoginExchange}): only its password messages are accepted. */
        AUTHENTICATING,
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
    private final BackendListener backendEvents = new SessionBackendEvents();
    private State state = State.STARTUP;
    private Channel client;
    private BackendLease backend;
    private BackendKeyData issuedKey;
    private String databaseId;
    private Route route;
    private ClientStartup startup;
    /** Counted in the client limits: in the total since the startup packet, in its database's once authenticated. */
    private boolean admitted;
    private boolean admittedToDatabase;
    private boolean tlsActive;
    private boolean backendSentFatal;
    private boolean clientViolatedProtocol;
    private ScheduledFuture<?> loginTimer;
    private LoginExchange login;
    /** The backend's parameters as last reported (ParameterStatus), for standard_conforming_strings and search_path. */
    private final Map<String, String> reported = new HashMap<>();
    private RpcSettings rpc;
    /** Null when no RPC function is configured: then every message passes through without a look. */
    private RpcRouter router;
    /** The request being stitched, from its last message until its ReadyForQuery; null otherwise. */
    private StitchedRequest stitched;
    /** ReadyForQuery the backend owes for Query, FunctionCall and Sync messages the client sent through. */
    private int readyForQueryOwed;
    /** An ErrorResponse answered unsynced extended-protocol messages since the last ReadyForQuery. */
    private boolean errorSinceSync;
    /** A stitched request run at a client's Flush failed: the client's messages are skipped until its Sync. */
    private boolean skippingUntilSync;

    public ClientSession(SessionContext context, FrontendFrameDecoder decoder) {
        this.context = context;
        this.decoder = decoder;
    }

    private void transition(State next) {
        if (next.ordinal() < state.ordinal()) {
            throw new IllegalStateException("session cannot go from " + state + " to " + next);
        }
        if (next.ordinal() > State.AUTHENTICATING.ordinal() && loginTimer != null) {
            loginTimer.cancel(false);
            loginTimer = null;
        }
        state = next;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client = ctx.channel();
        // A client that never finishes its login must not hold a connection slot forever.
        Duration timeout = context.authenticator().timeout();
        loginTimer = ctx.executor().schedule(() -> {
            if (state.ordinal() <= State.AUTHENTICATING.ordinal()) {
                fatal(PgException.fatal(SqlState.QUERY_CANCELED, "canceling authentication due to timeout"));
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (state) {
            case STARTUP -> startupPhase(ctx, msg);
            case AUTHENTICATING -> authenticationPhase((Frame) msg);
            case CONNECTING -> queue((Frame) msg);
            case READY -> relayToBackend((Frame) msg);
            case CLOSED -> ReferenceCountUtil.release(msg);
        }
    }

    private void startupPhase(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof SslRequest) {
            startTls(ctx);
        } else if (msg instanceof GssEncRequest) {
            // As PostgreSQL: bytes sent behind the request, before its answer, were never meant to be read.
            if (decoder.hasBufferedInput()) {
                throw PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                        "received unencrypted data after GSSAPI encryption request");
            }
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
        if (decoder.hasBufferedInput()) { // checked whatever the answer, as PostgreSQL does
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "received unencrypted data after SSL request");
        }
        if (!context.tls().offered()) {
            ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'), ctx.voidPromise());
            return;
        }
        // startTls: the handler lets the first write, our 'S', through in plaintext
        ctx.pipeline().addFirst(DirectTlsDetector.TLS_HANDLER,
                new SslHandler(context.tls().contexts().get().newEngine(ctx.alloc()), true));
        tlsActive = true;
        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('S'), ctx.voidPromise());
    }

    /**
     * A TLS handshake that completes without our SSLRequest answer was direct TLS ({@link DirectTlsDetector}):
     * as PostgreSQL 17, pgstitch then requires ALPN "postgresql", so that a TLS connection meant for another
     * protocol cannot be replayed at it.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof SslHandshakeCompletionEvent handshake && handshake.isSuccess() && !tlsActive) {
            tlsActive = true;
            String protocol = ctx.pipeline().get(SslHandler.class).applicationProtocol();
            if (!ServerTls.ALPN_POSTGRESQL.equals(protocol)) {
                clientViolatedProtocol = true;
                fatal(PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                        "received direct SSL connection request without ALPN protocol negotiation extension"));
            }
        }
        super.userEventTriggered(ctx, event);
    }

    private void login(ChannelHandlerContext ctx, StartupMessage message) {
        if (context.tls().required() && !tlsActive) {
            throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "pgstitch accepts only encrypted connections (listen.tls.mode: require)")
                    .withHint("Connect with sslmode=require or stronger.");
        }
        startup = ClientStartup.of(message);
        databaseId = startup.databaseId();
        context.limits().admit();
        admitted = true;
        if (startup.negotiate()) {
            toClient(new NegotiateProtocolVersion(startup.minorVersion(), startup.unrecognizedOptions()));
        }
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        if (context.tls().certificateNamesUser()) {
            checkCertificateName(tls, startup.user());
        }
        login = context.authenticator().begin(databaseId, startup.user(), clientAddress(),
                tls == null ? null : tls.engine().getSession());
        if (login.authenticated()) {
            connect();
        } else {
            transition(State.AUTHENTICATING);
            toClient(login.request());
            client.flush();
        }
    }

    /**
     * {@code listen.tls.client_cert: verify-full}: the certificate the handshake verified must name the user, as
     * pg_hba's clientcert=verify-full.
     */
    private static void checkCertificateName(SslHandler tls, String user) {
        X509Certificate certificate = null;
        try {
            if (tls != null && tls.engine().getSession().getPeerCertificates()[0] instanceof X509Certificate peer) {
                certificate = peer;
            }
        } catch (SSLPeerUnverifiedException e) {
            // no certificate: refused below
        }
        if (certificate == null || !ServerTls.clientCertificateMatchesUser(certificate, user)) {
            throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "certificate authentication failed for user \"" + user + "\"")
                    .withDetail("listen.tls.client_cert is verify-full: the client certificate's common name "
                            + "must be the user name.");
        }
    }

    private InetAddress clientAddress() {
        return client.remoteAddress() instanceof InetSocketAddress inet ? inet.getAddress() : null;
    }

    /** A client message while it logs in: the next step of its exchange, or the end of the connection. */
    private void authenticationPhase(Frame frame) {
        byte type = frame.type();
        if (type == 'X') { // libpq gives up this way when it has no password to send
            frame.release();
            closeBoth();
            return;
        }
        BackendMessage reply;
        try {
            if (type != 'p') {
                throw login.unexpected(type);
            }
            reply = login.receive(frame.body());
        } finally {
            frame.release();
        }
        if (reply != null) {
            toClient(reply);
        }
        client.flush();
        if (login.authenticated()) {
            connect();
        }
    }

    /** Authenticated: route by database ID and wait for a backend of the routed shard. */
    private void connect() {
        context.limits().admitTo(databaseId);
        admittedToDatabase = true;
        route = context.routes().get().route(databaseId).orElseThrow(() -> PgException
                .fatal(SqlState.INVALID_CATALOG_NAME, "database \"" + databaseId + "\" is not routed by pgstitch")
                .withHint("Add a route for it under \"routes\" in the configuration, or set \"default_route\"."));
        log.debug("{} database {} user {} ({}) -> {} ({})", client.remoteAddress(), databaseId, startup.user(),
                login.mechanism(), route.shard().name(), route.matchedBy());
        rpc = context.rpc().get();
        router = rpc.active() ? new RpcRouter(rpc, client.alloc()) : null;
        transition(State.CONNECTING);
        client.config().setAutoRead(false);
        context.pools()
                .acquire(client.eventLoop(), route.shard(), route.backendDatabase(), startup.sessionParameters())
                .addListener((Future<PooledBackend> acquired) -> loggedIn(acquired));
    }

    private void loggedIn(Future<PooledBackend> connected) {
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
        backend = BackendLease.attach(acquired, backendEvents, client.eventLoop(), context.connector());
        backend.channel().config().setAutoRead(client.isWritable());
        reported.putAll(backend.connection().parameters());
        issuedKey = context.cancels().issue(this, startup.usesLongCancelKeys() ? 32 : 4);
        decoder.authenticated();
        toClient(AuthenticationOk.INSTANCE);
        for (Map.Entry<String, String> parameter : reported.entrySet()) {
            toClient(new ParameterStatus(parameter.getKey(), parameter.getValue()));
        }
        toClient(issuedKey);
        toClient(ReadyForQuery.of(backend.status()));
        client.flush();
        transition(State.READY);
        while (stitched == null && !pending.isEmpty()) { // a stitched request makes the rest wait its turn
            relayToBackend(pending.poll());
        }
        backend.flush();
        resumeReading();
    }

    /**
     * Reads the client again unless frames wait behind a stitched request (they are read only when it is answered)
     * or the backend cannot take more.
     */
    private void resumeReading() {
        client.config().setAutoRead(pending.isEmpty() && backend.channel().isWritable());
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
        byte type = frame.type();
        if (type == 'X') { // Terminate: the client is done; its backend goes back to the pool
            frame.release();
            closeBoth();
            return;
        }
        if (stitched != null) {
            if (type == 'd' || type == 'c' || type == 'f') { // COPY FROM STDIN in one of its session steps
                backend.write(frame);
            } else { // the next request waits until the stitched one is answered
                pending.add(frame);
                client.config().setAutoRead(false);
            }
            return;
        }
        if (skippingUntilSync) {
            skipUntilSync(frame);
            return;
        }
        if (router != null && routeElsewhere(frame)) {
            return;
        }
        if (FrontendMessageType.isAnsweredByReadyForQuery(type)) {
            readyForQueryOwed++;
        }
        backend.write(frame);
    }

    /** After an error, as PostgreSQL: messages are dropped until a Sync, which is answered with ReadyForQuery. */
    private void skipUntilSync(Frame frame) {
        boolean sync = frame.type() == Sync.TYPE;
        frame.release();
        if (sync) {
            skippingUntilSync = false;
            toClient(ReadyForQuery.of(backend.status()));
            client.flush();
        }
    }

    /** Lets the router take {@code frame}; true when it did (held for a batch, or a stitched request began). */
    private boolean routeElsewhere(Frame frame) {
        RpcRouter.Routing routing;
        try {
            routing = router.route(frame, !"off".equals(reported.get("standard_conforming_strings")),
                    reported.get("client_encoding"));
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        if (routing == RpcRouter.Routing.READY) {
            boolean answersSync = router.planAnswersSync();
            stitched = new StitchedRequest(this, router.takePlan(), answersSync, rpc, context.rpcMetrics());
            if (readyForQueryOwed == 0) {
                stitched.start(errorSinceSync);
                errorSinceSync = false; // the request answers that error's Sync
            }
        }
        return routing != RpcRouter.Routing.PASS;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.READY) {
            backend.flush(); // one flush per read batch, not per message
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (state == State.READY) {
            boolean writable = ctx.channel().isWritable();
            backend.channel().config().setAutoRead(writable);
            if (stitched != null) {
                stitched.clientWritabilityChanged(writable);
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void backendFrame(Frame frame) {
        if (state != State.READY) {
            frame.release();
            return;
        }
        byte type = frame.type();
        if (type == 'E' && ErrorResponse.decode(frame.body()).isFatal()) {
            backendSentFatal = true;
        } else if (type == 'S') {
            ParameterStatus parameter = ParameterStatus.decode(frame.body());
            reported.put(parameter.name(), parameter.value());
        }
        if (stitched != null && stitched.started() && readyForQueryOwed == 0) {
            stitched.sessionFrame(frame);
            return;
        }
        if (type == 'Z') {
            errorSinceSync = false;
            readyForQueryOwed = Math.max(0, readyForQueryOwed - 1);
        } else if (type == 'E' && readyForQueryOwed == 0) {
            errorSinceSync = true;
        }
        toClient(frame);
        if (type == 'Z' && readyForQueryOwed == 0 && stitched != null) {
            stitched.start(errorSinceSync); // what the client sent before it is answered
        }
    }

    private void backendWritabilityChanged(boolean writable) {
        if (state == State.READY) {
            client.config().setAutoRead(writable && pending.isEmpty());
        }
    }

    private void backendClosed() {
        if (state != State.READY) {
            return;
        }
        if (backendSentFatal) { // the client already has the server's own reason
            releaseBackendSide();
            client.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            fatal(PgException.fatal(SqlState.CONNECTION_FAILURE,
                    "server connection to " + backend.connection().describe() + " closed unexpectedly"));
        }
    }

    private void backendFailed(Throwable cause) {
        log.debug("backend connection of {} failed", databaseId, cause);
        if (backend != null) {
            backend.channel().close(); // backendClosed() then tells the client
        }
    }

    /** A cancel for this client stops whatever runs for it: its session backend's query and its RPC call. */
    @Override
    public void cancel() {
        client.eventLoop().execute(() -> {
            if (backend != null && state == State.READY) {
                backend.cancel(client.eventLoop());
                if (stitched != null) {
                    stitched.cancel();
                }
            }
        });
    }

    // What a StitchedRequest needs of its session; all on this session's loop.

    BackendLease sessionBackend() {
        return backend;
    }

    EventLoop loop() {
        return client.eventLoop();
    }

    BackendConnector connector() {
        return context.connector();
    }

    boolean clientWritable() {
        return client.isWritable();
    }

    String reportedParameter(String name) {
        return reported.get(name);
    }

    Future<PooledBackend> acquireRpcBackend() {
        return context.pools().acquire(client.eventLoop(), PoolKey.rpc(route.shard(), route.backendDatabase(),
                startup.sessionParameters(), rpc.poolSize(), rpc.waitTimeout()));
    }

    /** Passes a backend frame on to the client (unflushed); takes it. */
    void toClient(Frame frame) {
        client.write(frame.content(), client.voidPromise());
    }

    /** Writes a complete message to the client (unflushed); takes it. */
    void toClient(ByteBuf message) {
        client.write(message, client.voidPromise());
    }

    void toClient(BackendMessage message) {
        client.write(message.encode(client.alloc()), client.voidPromise());
    }

    void toClient(PgException error) {
        toClient(error.toErrorResponse());
    }

    void flushClient() {
        client.flush();
    }

    ByteBufAllocator alloc() {
        return client.alloc();
    }

    /**
     * The stitched request is answered: the requests that waited behind it go on.
     *
     * @param skipUntilSync it ran at a Flush and failed: the client's messages up to its Sync are skipped
     */
    void stitchedRequestDone(boolean skipUntilSync) {
        stitched = null;
        skippingUntilSync = skipUntilSync;
        while (stitched == null && state == State.READY && !pending.isEmpty()) {
            relayToBackend(pending.poll());
        }
        if (state == State.READY) {
            backend.flush();
            resumeReading();
        }
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
            client.writeAndFlush(error.toErrorResponse().encode(client.alloc())).addListener(ChannelFutureListener.CLOSE);
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

    /** Idempotent: drops queued frames, a stitched request, the cancel key and the backend connection. */
    private void releaseBackendSide() {
        if (state != State.CLOSED) {
            transition(State.CLOSED);
        }
        while (!pending.isEmpty()) {
            pending.poll().release();
        }
        if (router != null) {
            router.release();
        }
        if (stitched != null) {
            stitched.abandon();
            stitched = null;
        }
        if (issuedKey != null) {
            context.cancels().remove(issuedKey.processId(), this);
            issuedKey = null;
        }
        if (admitted) {
            context.limits().leave();
            admitted = false;
        }
        if (admittedToDatabase) {
            context.limits().leaveFrom(databaseId);
            admittedToDatabase = false;
        }
        if (backend != null) {
            backend.giveBack(backendSentFatal || clientViolatedProtocol);
            backend = null;
        }
    }

    /** The session backend's events, kept off this class's public surface. */
    private final class SessionBackendEvents implements BackendListener {

        @Override
        public void backendFrame(Frame frame) {
            ClientSession.this.backendFrame(frame);
        }

        @Override
        public void backendReadComplete() {
            if (state == State.READY) {
                client.flush();
            }
        }

        @Override
        public void backendWritabilityChanged(boolean writable) {
            ClientSession.this.backendWritabilityChanged(writable);
        }

        @Override
        public void backendClosed() {
            ClientSession.this.backendClosed();
        }

        @Override
        public void backendFailed(Throwable cause) {
            ClientSession.this.backendFailed(cause);
        }
    }
}
