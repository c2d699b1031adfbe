package io.pgstitch.proxy.frontend;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The first handler of a client pipeline: every inbound event of the connection is handled inside
 * {@link SessionLog}'s scope for that client, so whatever the stages log carries who it is about.
 */
final class SessionLogScope extends ChannelInboundHandlerAdapter {

    private final LiveClient client;

    SessionLogScope(LiveClient client) {
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        LiveClient previous = SessionLog.enter(client);
        try {
            ctx.fireChannelRead(msg);
        } finally {
            SessionLog.exit(previous);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        LiveClient previous = SessionLog.enter(client);
        try {
            ctx.fireChannelInactive();
        } finally {
            SessionLog.exit(previous);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        LiveClient previous = SessionLog.enter(client);
        try {
            ctx.fireUserEventTriggered(event);
        } finally {
            SessionLog.exit(previous);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LiveClient previous = SessionLog.enter(client);
        try {
            ctx.fireExceptionCaught(cause);
        } finally {
            SessionLog.exit(previous);
        }
    }
}
