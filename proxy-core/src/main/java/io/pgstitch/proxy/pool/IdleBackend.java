package io.pgstitch.proxy.pool;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handler of a backend while it sits idle in its pool: a server owes an idle connection nothing, so whatever
 * it sends (a FATAL before it terminates the backend, an idle_session_timeout) means the connection is no longer
 * fit to serve: the frame is released and the connection closed, which the pool notices before handing it out.
 * Errors end here too, never at the pipeline's tail.
 */
@ChannelHandler.Sharable
final class IdleBackend extends ChannelInboundHandlerAdapter {

    static final String NAME = "idle";
    static final IdleBackend INSTANCE = new IdleBackend();
    private static final Logger log = LoggerFactory.getLogger(IdleBackend.class);

    private IdleBackend() {
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
        log.debug("idle backend {} spoke unasked: closing it", ctx.channel().remoteAddress());
        ctx.close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("idle backend {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
