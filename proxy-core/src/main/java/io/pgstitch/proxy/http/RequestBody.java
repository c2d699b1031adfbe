package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Collects a request and its body up to {@code http.limits.max_request_bytes}; a larger one is refused with 413
 * and an error object naming the limit, and the connection closes (the rest of the body is not read).
 */
final class RequestBody extends HttpObjectAggregator {

    static final String NAME = "body";

    private final int maxBytes;

    RequestBody(int maxBytes) {
        super(maxBytes);
        this.maxBytes = maxBytes;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        HttpError error = HttpError.of(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "REQUEST_TOO_LARGE",
                "Request too large", "the request body is larger than " + maxBytes
                        + " bytes (http.limits.max_request_bytes)",
                "Send a smaller script, or split it into several requests.");
        ByteBuf body = error.body();
        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, error.status(), body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpRequests.JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
