package io.pgstitch.proxy.admin.http;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.pgstitch.proxy.admin.AdminException;

/**
 * Netty's aggregator, except that its refusals are the API's error objects: a body over the limit gets 413
 * {@code REQUEST_TOO_LARGE} naming the limit, an unsupported {@code Expect} 417 {@code EXPECTATION_FAILED}, where
 * Netty answers both with an empty body.
 */
final class RequestAggregator extends HttpObjectAggregator {

    private final int maxBytes;

    RequestAggregator(int maxBytes) {
        super(maxBytes);
        this.maxBytes = maxBytes;
    }

    /** {@code Expect: 100-continue} with a Content-Length over the limit, or an Expect Netty does not support. */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object answer = super.newContinueResponse(start, maxContentLength, pipeline);
        if (!(answer instanceof FullHttpResponse refusal) || refusal.status().code() < 400) {
            return answer; // 100 Continue, or no expectation
        }
        boolean tooLarge = refusal.status().equals(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
        refusal.release();
        return ApiHandler.response(Endpoints.error(tooLarge ? tooLarge(start) : new AdminException(
                AdminException.Code.EXPECTATION_FAILED, "Expect: " + start.headers().get(HttpHeaderNames.EXPECT)
                + " is not supported", "Send the request without Expect, or with Expect: 100-continue.")));
    }

    /** As Netty's: closes the connection unless the rest of the body can be skipped on a kept-alive one. */
    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        FullHttpResponse response = ApiHandler.response(Endpoints.error(tooLarge(oversized)));
        if (oversized instanceof FullHttpMessage
                || !HttpUtil.is100ContinueExpected(oversized) && !HttpUtil.isKeepAlive(oversized)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }
    }

    private AdminException tooLarge(HttpMessage request) {
        long length = HttpUtil.getContentLength(request, -1L);
        return new AdminException(AdminException.Code.REQUEST_TOO_LARGE, (length < 0 ? "the request body is"
                : "the request body of " + length + " bytes is") + " over the admin API's limit of " + maxBytes
                + " bytes", "Requests are small JSON objects: send at most " + maxBytes / 1024 + " KiB.");
    }
}
