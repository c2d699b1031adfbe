package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.pgstitch.proxy.frontend.ClientOrigin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The requests of one HTTP connection, one at a time (a pipelined request waits, with reading paused): routes
 * {@code POST /v1/databases/{id}/run} to a {@link RunExchange} and {@code GET /v1/databases/{id}/ws} to a
 * WebSocket upgrade ({@link WebSocketSession}); everything else is an error object with its status.
 */
final class HttpRequests extends ChannelInboundHandlerAdapter {

    static final String NAME = "requests";
    static final String JSON = "application/json; charset=utf-8";
    private static final Logger log = LoggerFactory.getLogger(HttpRequests.class);
    private static final Pattern PATH = Pattern.compile("/v1/databases/([^/]+)/(run|ws)");
    /** Requests a client may pipeline behind the one being answered. */
    private static final int MAX_QUEUED = 16;

    private final SqlOverHttp server;
    private final ArrayDeque<FullHttpRequest> queued = new ArrayDeque<>();
    private RunExchange current;
    private boolean upgrading;

    HttpRequests(SqlOverHttp server) {
        this.server = server;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest request)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (current != null || upgrading) {
            if (queued.size() >= MAX_QUEUED || upgrading) {
                request.release();
                ctx.close();
                return;
            }
            queued.add(request);
            ctx.channel().config().setAutoRead(false);
            return;
        }
        try {
            handle(ctx, request);
        } finally {
            request.release();
        }
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        try {
            if (!request.decoderResult().isSuccess()) {
                throw new Refused(HttpError.badRequest("malformed HTTP request: " + request.decoderResult().cause(),
                        null));
            }
            QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            Matcher path = PATH.matcher(uri.rawPath());
            if (!path.matches()) {
                throw new Refused(HttpError.notFound(uri.path()));
            }
            String database = QueryStringDecoder.decodeComponent(path.group(1));
            boolean run = path.group(2).equals("run");
            HttpMethod expected = run ? HttpMethod.POST : HttpMethod.GET;
            if (!request.method().equals(expected)) {
                throw new Refused(HttpError.of(HttpResponseStatus.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED",
                        "Method not allowed", request.method() + " is not allowed here",
                        (run ? "POST the SQL text" : "GET with a WebSocket upgrade") + " to " + uri.path() + "."));
            }
            String from = request.headers().get(HttpHeaderNames.ORIGIN);
            if (!server.config().allowsOrigin(from, request.headers().get(HttpHeaderNames.HOST))) {
                throw new Refused(HttpError.of(HttpResponseStatus.FORBIDDEN, "ORIGIN_NOT_ALLOWED",
                        "Origin not allowed", "a page of " + from + " may not call this API",
                        "Add " + from + " to http.allowed_origins, or call from the API's own origin."));
            }
            String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
            Credentials credentials = run ? Credentials.of(authorization, server.config())
                    : Credentials.ofWebSocket(authorization, request.headers().get(
                            HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL), server.config());
            Login login = new Login(credentials.user(), credentials.password(), database, origin(ctx));
            ctx.channel().config().setAutoRead(false);
            if (run) {
                String contentType = request.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
                RunRequest body = RunRequest.ofBody(request.content(),
                        contentType.toLowerCase(Locale.ROOT).startsWith("application/json"));
                String accept = request.headers().get(HttpHeaderNames.ACCEPT, "");
                current = new RunExchange(this, ctx, server, login, body,
                        accept.contains(NdjsonResponse.CONTENT_TYPE), keepAlive);
                current.start();
            } else {
                upgrading = true;
                WebSocketSession.upgrade(this, ctx, server, login, request.retain());
            }
        } catch (Refused refused) {
            respond(ctx, refused.error(), keepAlive);
            ctx.channel().config().setAutoRead(true);
        }
    }

    /** The HTTP client's address and TLS session, which {@code auth.rules} look at. */
    private static ClientOrigin origin(ChannelHandlerContext ctx) {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        return new ClientOrigin((InetSocketAddress) ctx.channel().remoteAddress(),
                tls == null ? null : tls.engine().getSession());
    }

    /** The exchange answered: the next pipelined request, or reading again. */
    void exchangeDone(ChannelHandlerContext ctx, boolean keepAlive) {
        current = null;
        if (!keepAlive) {
            return; // the response closes the connection
        }
        ctx.channel().eventLoop().execute(() -> {
            while (current == null && !upgrading && !queued.isEmpty() && ctx.channel().isActive()) {
                FullHttpRequest next = queued.poll();
                try {
                    handle(ctx, next);
                } finally {
                    next.release();
                }
            }
            if (current == null && !upgrading) {
                ctx.channel().config().setAutoRead(true);
            }
        });
    }

    /** The upgrade failed before it was done (login refused): the connection serves requests again. */
    void upgradeRefused(ChannelHandlerContext ctx, HttpError error, boolean keepAlive) {
        upgrading = false;
        respond(ctx, error, keepAlive);
        exchangeDone(ctx, keepAlive);
    }

    /** The connection is a WebSocket now: requests queued behind the upgrade are dropped. */
    void upgraded() {
        releaseQueued();
    }

    static void respond(ChannelHandlerContext ctx, HttpError error, boolean keepAlive) {
        FullHttpResponse response = response(ctx, error.status(), error.body(), keepAlive);
        if (error.status() == HttpResponseStatus.UNAUTHORIZED) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, Credentials.CHALLENGE);
        }
        send(ctx, response, keepAlive);
    }

    static FullHttpResponse response(ChannelHandlerContext ctx, HttpResponseStatus status, ByteBuf body,
                                     boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return response;
    }

    static void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
        if (!ctx.channel().isActive()) {
            response.release();
            return;
        }
        if (keepAlive) {
            ctx.writeAndFlush(response, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (current != null) {
            current.writable(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (current != null) {
            current.abort();
            current = null;
        }
        releaseQueued();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("HTTP client {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
        } else {
            log.warn("HTTP client {}: request failed", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }

    private void releaseQueued() {
        while (!queued.isEmpty()) {
            queued.poll().release();
        }
    }
}
