package io.pgstitch.proxy.backend;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgstitch.protocol.Frame;

/**
 * The last handler of a leased backend channel (a session's own backend or an RPC connection): each frame is
 * matched, as it is read, against the lease's FIFO of pending responses and handed to its owner; the channel's
 * own events go to the lease's listener. Everything reaches the session on its own loop.
 */
final class BackendRelay extends ChannelInboundHandlerAdapter {

    private final BackendLease lease;
    private final BackendListener listener;

    BackendRelay(BackendLease lease, BackendListener listener) {
        this.lease = lease;
        this.listener = listener;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        lease.received((Frame) msg, listener);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        lease.onSessionLoop(listener::backendReadComplete, listener); // flushes what the last frames wrote
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        lease.channelEvent(() -> listener.backendWritabilityChanged(writable), listener);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        lease.channelEvent(listener::backendClosed, listener);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        lease.channelEvent(() -> listener.backendFailed(cause), listener);
    }
}
