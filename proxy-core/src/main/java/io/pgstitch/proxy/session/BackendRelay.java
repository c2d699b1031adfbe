package io.pgstitch.proxy.session;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.pgstitch.protocol.Frame;

/**
 * The last handler of a backend channel leased by a session (its own backend or an RPC connection): hands every
 * event to the session's listener, on the session's event loop. A backend opened for this client shares its
 * loop and the events are direct calls; a pooled backend opened for an earlier client may live on another
 * loop, and then each event becomes a task on the session's loop, so the session is still only ever touched by
 * one thread.
 */
final class BackendRelay extends ChannelInboundHandlerAdapter {

    private final BackendListener listener;
    private final EventLoop sessionLoop;
    private final RequestTracker requests;

    BackendRelay(BackendListener listener, EventLoop sessionLoop, RequestTracker requests) {
        this.listener = listener;
        this.sessionLoop = sessionLoop;
        this.requests = requests;
    }

    private void onSessionLoop(Runnable event) {
        if (sessionLoop.inEventLoop()) {
            event.run();
        } else {
            sessionLoop.execute(event);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        requests.fromBackend((Frame) msg); // counted here, on the backend's loop, as it is read
        onSessionLoop(() -> listener.backendFrame((Frame) msg));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        onSessionLoop(listener::backendReadComplete);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        onSessionLoop(() -> listener.backendWritabilityChanged(writable));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        onSessionLoop(listener::backendClosed);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        onSessionLoop(() -> listener.backendFailed(cause));
    }
}
