package io.pgstitch.proxy.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgstitch.conf.HttpConfig;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.ErrorField;
import io.pgstitch.protocol.backend.ErrorResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /v1/databases/{id}/ws}: one session for the life of the socket, logged in before the upgrade (so a
 * wrong password or an unknown database is an HTTP error, as for {@code run}), holding one of the user's request
 * slots. The client sends {@code {"id": ..., "sql": "...", "params": [...]}}; requests run one after another on
 * the session, and each one's {@link EventJson events}, tagged with its id, are sent as they happen.
 * {@code {"cancel": id}} cancels that request (a CancelRequest when it runs, dropped when it waits); closing the
 * socket closes the session, which cancels what runs. The server pings every {@code http.ping_interval}; a
 * socket with nothing running that receives nothing for {@code http.limits.websocket_idle_timeout} is closed
 * (1001) after an error event naming the limit.
 *
 * <p>The server selects the subprotocol {@code pgstitch} when it is offered (a browser offers its token beside
 * it: {@link Credentials#ofWebSocket}).
 *
 * <p>A cancel may reach the proxy after the request it names has ended: the next request starts only once the
 * proxy has delivered the cancel, so that it cannot land there.
 */
final class WebSocketSession extends ChannelInboundHandlerAdapter {

    static final String NAME = "websocket";
    private static final Logger log = LoggerFactory.getLogger(WebSocketSession.class);
    /** Requests a client may send ahead of the one running. */
    private static final int MAX_QUEUED = 100;

    /** A request of the socket: its id (as JSON text) and what to run. */
    private record Request(String id, RunRequest run) {
    }

    private final SqlOverHttp server;
    private final SqlSession session;
    private final String user;
    private final HttpConfig config;
    private final ArrayDeque<Request> queued = new ArrayDeque<>();
    private Channel channel;
    private Request running;
    /** Cancels sent and not yet delivered: the next request waits for them, lest one land on it. */
    private int cancelsInFlight;
    private ScheduledFuture<?> ping;
    private ScheduledFuture<?> idle;
    private boolean closed;

    private WebSocketSession(SqlOverHttp server, SqlSession session, String user) {
        this.server = server;
        this.session = session;
        this.user = user;
        this.config = server.config();
    }

    /**
     * Logs the session in, takes a slot, then completes the handshake with this handler in place of
     * {@link HttpRequests}. Takes {@code request}.
     */
    static void upgrade(HttpRequests requests, ChannelHandlerContext ctx, SqlOverHttp server, Login login,
                        FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(
                "ws://" + request.headers().get("Host", "localhost") + request.uri(), Credentials.SUBPROTOCOL,
                WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(server.config().limits().maxRequestBytes())
                        .allowExtensions(false).build()).newHandshaker(request);
        if (handshaker == null) {
            request.release();
            requests.upgradeRefused(ctx, HttpError.badRequest("not a WebSocket upgrade (or an unsupported version)",
                    "Connect with a WebSocket client (version 13)."), keepAlive);
            return;
        }
        Future<SqlSession> opening = SqlSession.open(server.sessions(), ctx.channel().eventLoop(), login);
        opening.addListener(done -> {
            if (!ctx.channel().isActive()) {
                request.release();
                if (opening.isSuccess()) {
                    opening.getNow().close();
                }
                return;
            }
            if (!opening.isSuccess()) {
                request.release();
                requests.upgradeRefused(ctx, HttpError.ofLogin(opening.cause(), login), keepAlive);
                return;
            }
            int max = server.config().limits().maxConcurrentRequests();
            if (!server.slots().tryAcquire(login.user(), max)) {
                request.release();
                opening.getNow().close();
                requests.upgradeRefused(ctx, HttpError.of(HttpResponseStatus.TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS",
                        "Too many requests", "user \"" + login.user() + "\" has " + max + " requests or WebSockets "
                                + "open (http.limits.max_concurrent_requests)", "Close one first."), keepAlive);
                return;
            }
            WebSocketSession socket = new WebSocketSession(server, opening.getNow(), login.user());
            ctx.pipeline().addBefore(HttpRequests.NAME, "ws-messages",
                    new WebSocketFrameAggregator(server.config().limits().maxRequestBytes()));
            ctx.pipeline().replace(HttpRequests.NAME, NAME, socket);
            requests.upgraded();
            try {
                handshaker.handshake(ctx.channel(), request).addListener(shaken -> {
                    if (shaken.isSuccess()) {
                        ctx.channel().config().setAutoRead(true);
                    } else {
                        ctx.channel().close();
                    }
                });
            } finally {
                request.release();
            }
        });
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        long every = config.pingInterval().toMillis();
        ping = channel.eventLoop().scheduleAtFixedRate(
                () -> channel.writeAndFlush(new PingWebSocketFrame(), channel.voidPromise()), every, every,
                TimeUnit.MILLISECONDS);
        activity();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof TextWebSocketFrame text) {
                activity();
                message(text.text());
            } else if (msg instanceof PingWebSocketFrame pingFrame) {
                ctx.writeAndFlush(new PongWebSocketFrame(pingFrame.content().retain()), ctx.voidPromise());
            } else if (msg instanceof CloseWebSocketFrame close) {
                ctx.writeAndFlush(new CloseWebSocketFrame(close.statusCode(), close.reasonText()))
                        .addListener(ChannelFutureListener.CLOSE);
            } else if (msg instanceof WebSocketFrame && !(msg instanceof PongWebSocketFrame)) {
                refuse(null, HttpError.badRequest("only text messages are understood",
                        "Send {\"id\": ..., \"sql\": \"...\"} or {\"cancel\": id} as text."));
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void message(String text) {
        JsonNode node;
        try {
            node = RunRequest.JSON.readTree(text);
        } catch (JsonProcessingException e) {
            refuse(null, HttpError.badRequest("the message is not valid JSON: " + e.getOriginalMessage(), null));
            return;
        }
        if (node == null || !node.isObject()) {
            refuse(null, HttpError.badRequest("a message must be a JSON object",
                    "Send {\"id\": ..., \"sql\": \"...\"} or {\"cancel\": id}."));
            return;
        }
        if (node.has("cancel")) {
            cancel(id(node.get("cancel")));
            return;
        }
        String id = id(node.get("id"));
        if (id == null) {
            refuse(null, HttpError.badRequest("\"id\" must be a string or a number",
                    "Tag each request with an id; its events carry it."));
            return;
        }
        RunRequest run;
        try {
            run = RunRequest.ofJson(node);
        } catch (Refused refused) {
            refuse(id, refused.error());
            return;
        }
        if (queued.size() >= MAX_QUEUED) {
            refuse(id, HttpError.of(HttpResponseStatus.TOO_MANY_REQUESTS, "TOO_MANY_QUEUED", "Too many queued",
                    MAX_QUEUED + " requests wait already on this WebSocket", "Wait for results before sending more."));
            return;
        }
        queued.add(new Request(id, run));
        runNext();
    }

    /** A request id as JSON text: a string or a number; null otherwise. */
    private static String id(JsonNode node) {
        return node != null && (node.isTextual() || node.isNumber()) ? node.toString() : null;
    }

    private void cancel(String id) {
        if (id == null) {
            return;
        }
        if (running != null && running.id().equals(id)) {
            cancelsInFlight++;
            session.cancel().addListener(delivered -> {
                cancelsInFlight--;
                runNext();
            });
            return;
        }
        for (Iterator<Request> it = queued.iterator(); it.hasNext(); ) {
            Request waiting = it.next();
            if (waiting.id().equals(id)) {
                it.remove();
                Map<Character, String> fields = new LinkedHashMap<>();
                fields.put(ErrorField.SEVERITY, "ERROR");
                fields.put(ErrorField.CODE, SqlState.QUERY_CANCELED);
                fields.put(ErrorField.MESSAGE, "canceling statement due to user request (before it ran)");
                JsonOut json = new JsonOut();
                EventJson.error(json, id, 0, new ErrorResponse(fields));
                send(json);
                json = new JsonOut();
                EventJson.done(json, id);
                send(json);
                channel.flush();
                return;
            }
        }
    }

    private void runNext() {
        if (running != null || cancelsInFlight > 0 || queued.isEmpty() || closed) {
            return;
        }
        running = queued.poll();
        Events events = new Events(running.id());
        if (running.run().params() != null) {
            session.run(running.run().sql(), running.run().params(), events);
        } else {
            session.run(running.run().sql(), events);
        }
    }

    /** An event that is not a request's: its error object, with the id when there is one. */
    private void refuse(String id, HttpError error) {
        JsonOut json = new JsonOut();
        EventJson.refused(json, id, error);
        send(json);
        channel.flush();
    }

    private void send(JsonOut json) {
        if (!channel.isActive()) {
            return;
        }
        channel.write(new TextWebSocketFrame(json.toBuffer()), channel.voidPromise());
        if (!channel.isWritable()) {
            session.pause(true);
        }
    }

    /** Something happened: the idle timer starts again (it only fires while nothing runs or waits). */
    private void activity() {
        if (idle != null) {
            idle.cancel(false);
        }
        long timeout = config.limits().websocketIdleTimeout().toMillis();
        idle = channel.eventLoop().schedule(this::idleTimeout, timeout, TimeUnit.MILLISECONDS);
    }

    private void idleTimeout() {
        if (running != null || !queued.isEmpty()) {
            activity();
            return;
        }
        refuse(null, HttpError.of(HttpResponseStatus.REQUEST_TIMEOUT, "IDLE_TIMEOUT", "Idle timeout",
                "nothing was sent for " + config.limits().websocketIdleTimeout().toSeconds()
                        + " s (http.limits.websocket_idle_timeout)", "Reconnect when there is work."));
        channel.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "idle timeout"))
                .addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            session.pause(false);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        end();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException || cause instanceof CorruptedWebSocketFrameException) {
            refuse(null, HttpError.of(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "REQUEST_TOO_LARGE",
                    "Request too large", "a message is larger than " + config.limits().maxRequestBytes()
                            + " bytes (http.limits.max_request_bytes), or malformed: " + cause.getMessage(), null));
            ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.MESSAGE_TOO_BIG, "message too big"))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (cause instanceof IOException) {
            log.debug("WebSocket {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
        } else {
            log.warn("WebSocket {} failed", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }

    /** The socket closed: the session closes (the proxy cancels what runs), the slot and the timers go. */
    private void end() {
        if (closed) {
            return;
        }
        closed = true;
        queued.clear();
        ping.cancel(false);
        if (idle != null) {
            idle.cancel(false);
        }
        session.close();
        server.slots().release(user);
    }

    /** One request's events, tagged with its id. */
    private final class Events extends EventStream {

        Events(String id) {
            super(id);
        }

        @Override
        void send(JsonOut json) {
            WebSocketSession.this.send(json);
        }

        @Override
        public void failed(PgException error) {
            if (!closed) { // else the socket closed first, and closed the session
                super.failed(error);
            }
        }

        @Override
        void ended(PgException failure) {
            running = null;
            if (failure == null) {
                channel.flush();
                activity();
                runNext();
            } else {
                channel.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.INTERNAL_SERVER_ERROR,
                        "the session ended")).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void flush() {
            channel.flush();
        }
    }
}
