package io.pgstitch.proxy.admin.http;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.pgstitch.proxy.admin.AdminException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.stream.Collectors;

/**
 * One HTTP request of the admin API: checks the bearer token (except on {@code /healthz} and {@code /readyz}),
 * finds the endpoint, lets it answer off the event loop, and writes the answer back on it. Every failure is an
 * error object with a fitting status; no stack trace ever reaches the client.
 */
final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);

    private final Endpoints endpoints;
    private final Supplier<List<String>> tokens;
    private final boolean loopbackOnly;

    /** @param loopbackOnly whether the listener is bound to a loopback address: only there may tokens be absent */
    ApiHandler(Endpoints endpoints, Supplier<List<String>> tokens, boolean loopbackOnly) {
        this.endpoints = endpoints;
        this.tokens = tokens;
        this.loopbackOnly = loopbackOnly;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) { // Netty's stand-in request, "GET /bad-request"; the rest is lost
            write(ctx, false, Endpoints.error(malformed(request.decoderResult().cause())));
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        String path = new QueryStringDecoder(request.uri()).path();
        byte[] body = ByteBufUtil.getBytes(request.content());
        CompletableFuture<ApiResponse> answer;
        try {
            answer = dispatch(request, path, body);
        } catch (AdminException e) {
            answer = CompletableFuture.completedFuture(Endpoints.error(e));
        } catch (Exception e) {
            answer = CompletableFuture.failedFuture(e);
        }
        answer.whenComplete((response, failure) -> ctx.executor().execute(() -> write(ctx, keepAlive,
                failure == null ? response : failed(request, path, failure))));
    }

    private CompletableFuture<ApiResponse> dispatch(FullHttpRequest request, String path, byte[] body)
            throws Exception {
        boolean pathKnown = false;
        for (Endpoints.Endpoint endpoint : endpoints.all()) {
            Matcher matcher = Endpoints.match(endpoint, path);
            if (matcher == null) {
                continue;
            }
            pathKnown = true;
            if (!endpoint.method().equals(request.method())) {
                continue;
            }
            if (!endpoint.open()) {
                authorize(request);
            }
            String parameter = matcher.groupCount() == 0 ? null
                    : QueryStringDecoder.decodeComponent(matcher.group(1), StandardCharsets.UTF_8);
            return endpoint.handler().handle(parameter, body);
        }
        if (pathKnown) {
            String allowed = endpoints.all().stream().filter(endpoint -> Endpoints.match(endpoint, path) != null)
                    .map(endpoint -> endpoint.method().name()).collect(Collectors.joining(", "));
            throw new AdminException(AdminException.Code.METHOD_NOT_ALLOWED, request.method() + " is not allowed on "
                    + path, "Allowed: " + allowed + ".");
        }
        throw new AdminException(AdminException.Code.NOT_FOUND, "no such endpoint: " + path,
                "GET /api/v1/openapi.json describes the API.");
    }

    /**
     * A bearer token from {@code admin.http.tokens}, compared in constant time: both sides are hashed first, so
     * neither the length nor the first differing byte of a guess shows in the time taken, and every token is tried.
     */
    private void authorize(FullHttpRequest request) {
        List<String> allowed = tokens.get();
        if (allowed.isEmpty() && loopbackOnly) {
            return; // no token on loopback is allowed; elsewhere an empty list lets no one in
        }
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new AdminException(AdminException.Code.UNAUTHORIZED, "this endpoint needs a bearer token",
                    "Send Authorization: Bearer <one of admin.http.tokens>.");
        }
        byte[] offered = sha256(header.substring(7).trim());
        boolean match = false;
        for (String token : allowed) {
            match |= MessageDigest.isEqual(offered, sha256(token));
        }
        if (!match) {
            throw new AdminException(AdminException.Code.UNAUTHORIZED, "the bearer token is not valid",
                    "Use one of admin.http.tokens.");
        }
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }

    private static ApiResponse failed(FullHttpRequest request, String path, Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof AdminException admin) {
            return Endpoints.error(admin);
        }
        log.error("admin API {} {} failed", request.method(), path, cause);
        return Endpoints.error(new AdminException(AdminException.Code.INTERNAL, "the request failed inside pgstitch: "
                + cause.getClass().getSimpleName(), "pgstitch's log has the details."));
    }

    private static AdminException malformed(Throwable cause) {
        return new AdminException(AdminException.Code.BAD_REQUEST, "the request is not valid HTTP/1.1: "
                + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()),
                "Send an HTTP/1.1 request with a request line under 4 KiB and headers under 8 KiB.");
    }

    /** The HTTP response of an answer. */
    static FullHttpResponse response(ApiResponse answer) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, answer.status(),
                Unpooled.wrappedBuffer(answer.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, answer.contentType())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, answer.body().length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (answer.status().code() == 401) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"pgstitch\"");
        }
        return response;
    }

    private static void write(ChannelHandlerContext ctx, boolean keepAlive, ApiResponse answer) {
        FullHttpResponse response = response(answer);
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response, ctx.voidPromise());
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin API connection {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
