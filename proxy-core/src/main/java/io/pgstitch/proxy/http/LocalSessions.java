package io.pgstitch.proxy.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import io.netty.util.concurrent.Promise;
import io.pgstitch.protocol.backend.BackendKeyData;
import io.pgstitch.protocol.frontend.CancelRequest;
import io.pgstitch.proxy.frontend.ClientOrigin;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * The in-process listener that SQL over HTTP connects to as a PostgreSQL client would connect to the proxy's
 * port: each connection is a client session with the very pipeline of a TCP client (startup, authentication,
 * routing, pool, RPC splitting and stitching). A session is registered on the event loop of the HTTP connection
 * that opened it, so the HTTP side, the session and its backends share one loop, and it carries the HTTP
 * client's {@link ClientOrigin} for {@code auth.rules}.
 */
final class LocalSessions implements AutoCloseable {

    /** Puts a new session's handlers in place (the proxy's client pipeline). */
    interface Installer {
        /** @param bearer whether the session logs in with a bearer token the HTTP side checked */
        void install(Channel session, boolean bearer);
    }

    /** A connection on its way in: where its session runs and what it carries. */
    private record Pending(EventLoop loop, ClientOrigin origin, boolean bearer, Promise<Channel> session) {
    }

    private final LocalAddress address;
    private final EventLoopGroup group;
    private final Installer installer;
    private final IntSupplier maxMessageSize;
    private final Map<LocalAddress, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();
    private final String prefix;
    private final Channel server;

    private LocalSessions(EventLoopGroup group, Installer installer, IntSupplier maxMessageSize)
            throws InterruptedException {
        byte[] random = new byte[6];
        new SecureRandom().nextBytes(random);
        // unique in the process: several proxies may run in one JVM (tests)
        this.prefix = "pgstitch-" + HexFormat.of().formatHex(random);
        this.address = new LocalAddress(prefix);
        this.group = group;
        this.installer = installer;
        this.maxMessageSize = maxMessageSize;
        LocalServerChannel listener = new LocalServerChannel();
        listener.pipeline().addLast(new Acceptor());
        group.next().register(listener).sync();
        this.server = listener.bind(address).sync().channel();
    }

    /** @param maxMessageSize {@code listen.max_message_size}: the longest result message a session reads */
    static LocalSessions start(EventLoopGroup group, Installer installer, IntSupplier maxMessageSize)
            throws InterruptedException {
        return new LocalSessions(group, installer, maxMessageSize);
    }

    /** The longest message a session opened now reads whole: a DataRow longer than that fails its request. */
    int maxMessageSize() {
        return maxMessageSize.getAsInt();
    }

    /**
     * Opens a session from {@code loop} (the HTTP connection's). {@code handler} is the client's end of it; the
     * session's own end (the channel the proxy reads and writes) completes {@code sessionEnd} once registered.
     */
    ChannelFuture connect(EventLoop loop, ClientOrigin origin, boolean bearer, ChannelHandler handler,
                          Promise<Channel> sessionEnd) {
        LocalAddress from = new LocalAddress(prefix + "-" + ids.incrementAndGet());
        pending.put(from, new Pending(loop, origin, bearer, sessionEnd));
        ChannelFuture connected = new Bootstrap().group(loop).channel(LocalChannel.class).handler(handler)
                .connect(address, from);
        connected.addListener(done -> {
            if (!done.isSuccess()) {
                pending.remove(from);
                sessionEnd.tryFailure(done.cause());
            }
        });
        return connected;
    }

    /**
     * Sends a CancelRequest for the session that was issued {@code key}, on a connection of its own as a
     * PostgreSQL client does; the proxy closes it once the shard has taken the cancel.
     *
     * @return that close: from then on a cancel cannot land on a request sent later
     */
    ChannelFuture cancel(EventLoop loop, BackendKeyData key) {
        return new Bootstrap().group(loop).channel(LocalChannel.class).handler(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext ctx) {
                ByteBuf request = ctx.alloc().buffer(16);
                new CancelRequest(key.processId(), key.secretKey()).encode(request);
                ctx.writeAndFlush(request, ctx.voidPromise());
            }
        }).connect(address).channel().closeFuture();
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
    }

    /**
     * Registers each accepted session on the loop its HTTP side asked for (a CancelRequest's connection, which
     * carries nothing, on any loop) with the proxy's client pipeline: what the ServerBootstrap of the TCP listener
     * does, with the loop chosen per connection.
     */
    private final class Acceptor extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Channel session = (Channel) msg;
            Pending from = pending.remove(session.remoteAddress());
            if (from != null) {
                session.attr(ClientOrigin.KEY).set(from.origin());
            }
            session.pipeline().addLast(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel channel) {
                    installer.install(channel, from != null && from.bearer());
                }
            });
            EventLoop loop = from != null ? from.loop() : group.next();
            loop.register(session).addListener(registered -> {
                if (!registered.isSuccess()) {
                    session.unsafe().closeForcibly();
                    if (from != null) {
                        from.session().tryFailure(registered.cause());
                    }
                } else if (from != null) {
                    from.session().trySuccess(session);
                }
            });
        }
    }
}
