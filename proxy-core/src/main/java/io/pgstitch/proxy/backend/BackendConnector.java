package io.pgstitch.proxy.backend;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.util.ReferenceCountUtil;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.protocol.BackendFrameDecoder;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.ProtocolVersion;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.BackendKeyData;
import io.pgstitch.protocol.frontend.CancelRequest;
import io.pgstitch.protocol.frontend.StartupMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;

/**
 * Opens logged-in connections to shards on a given event loop (the client's, so that relaying between the
 * two never crosses threads), over TLS when the shard's {@code tls} asks for it, and sends CancelRequests to them.
 */
public final class BackendConnector {

    private static final Logger log = LoggerFactory.getLogger(BackendConnector.class);

    /** A server that has not closed a cancel connection by then never will: stop waiting for it. */
    private static final int CANCEL_TIMEOUT_SECONDS = 5;

    private final Class<? extends SocketChannel> channelClass;
    private final ShardTls tls = new ShardTls();
    private final IntSupplier maxMessageSize;

    /**
     * @param maxMessageSize {@code listen.max_message_size}, read for each new connection: the longest message
     *                       of a type the proxy reads whole that it accepts from a shard
     */
    public BackendConnector(Class<? extends SocketChannel> channelClass, IntSupplier maxMessageSize) {
        this.channelClass = channelClass;
        this.maxMessageSize = maxMessageSize;
    }

    /**
     * Connects to {@code shard} and logs in to {@code database} as {@code login}'s user. No session parameter is
     * sent: the connection starts at the server's defaults for that user and database, which is what a reset
     * (DISCARD ALL) returns it to, and each client's own parameters are applied when it takes the connection.
     *
     * The whole login, TCP connect included, must finish within the shard's {@code pool.connect_timeout}: a
     * shard that accepts and then says nothing is as down as one that does not answer.
     *
     * @return a future completed with the ready connection, or failed with a {@link PgException} naming the shard
     */
    public Future<BackendConnection> connect(EventLoop loop, ShardConfig shard, String database, ShardLogin login) {
        return connect(loop, shard, database, login, null);
    }

    /**
     * As {@link #connect(EventLoop, ShardConfig, String, ShardLogin)}, and once logged in asks the server how many
     * connections it allows (see {@link ConnectionLimitQuery}), telling {@code connectionLimit} before the
     * future completes; null: not asked.
     */
    public Future<BackendConnection> connect(EventLoop loop, ShardConfig shard, String database, ShardLogin login,
                                             IntConsumer connectionLimit) {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", login.user());
        parameters.put("database", database);
        StartupMessage startup = new StartupMessage(ProtocolVersion.V3_0, parameters);
        Promise<BackendConnection> promise = loop.newPromise();
        int maxInspectedLength = maxMessageSize.getAsInt();
        int connectTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, shard.pool().connectTimeout().toMillis());
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (shard.tls().negotiates()) {
                            ch.pipeline().addLast("negotiate", new ShardTlsNegotiation(shard, tls, promise));
                        }
                        ch.pipeline().addLast("frames", new BackendFrameDecoder(maxInspectedLength));
                        ch.pipeline().addLast("startup", new BackendStartup(shard, login, startup, promise,
                                connectionLimit));
                    }
                });
        ChannelFuture connecting = bootstrap.connect(shard.host(), shard.port());
        connecting.addListener((ChannelFuture connected) -> {
            if (!connected.isSuccess()) {
                promise.tryFailure(PgException.fatal(SqlState.CONNECTION_FAILURE, String.format(
                        "could not connect to shard \"%s\" at %s:%d: %s", shard.name(), shard.host(),
                        shard.port(), describe(connected.cause()))));
            }
        });
        ScheduledFuture<?> deadline = loop.schedule(() -> {
            if (promise.tryFailure(PgException.fatal(SqlState.CONNECTION_FAILURE, String.format(
                    "shard \"%s\" at %s:%d did not complete the login within %d ms", shard.name(), shard.host(),
                    shard.port(), connectTimeoutMillis)))) {
                connecting.channel().close();
            }
        }, connectTimeoutMillis, TimeUnit.MILLISECONDS);
        promise.addListener(done -> deadline.cancel(false));
        return promise;
    }

    /** Re-reads the shards' {@code tls_ca} files that changed; blocking, so the file-watch thread's. */
    public void refreshTls() {
        tls.refresh();
    }

    /**
     * Forwards a cancel to the backend that {@code key} belongs to, on a connection of its own, as
     * PostgreSQL expects; the server answers nothing and closes.
     *
     * @return completes when the server has closed the cancel connection (or the cancel could not be sent)
     */
    public Future<Void> cancel(EventLoop loop, ShardConfig shard, BackendKeyData key) {
        Promise<Void> done = loop.newPromise();
        if (key.processId() == 0) {
            return done.setSuccess(null);
        }
        new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                        (int) Math.min(Integer.MAX_VALUE, shard.pool().connectTimeout().toMillis()))
                .handler(new ChannelInboundHandlerAdapter() {
                    // The server answers a CancelRequest with nothing and closes; a reset is no error of ours.
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        ReferenceCountUtil.release(msg);
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        log.debug("cancel connection to shard {}: {}", shard.name(), describe(cause));
                        ctx.close();
                    }
                })
                .connect(shard.host(), shard.port())
                .addListener((ChannelFuture connected) -> {
                    if (!connected.isSuccess()) {
                        log.warn("could not forward a cancel to shard {}: {}", shard.name(),
                                describe(connected.cause()));
                        done.trySuccess(null);
                        return;
                    }
                    // The server closes the connection once it has signalled the backend: that close is
                    // when the cancel has certainly been delivered.
                    Channel channel = connected.channel();
                    channel.closeFuture().addListener(closed -> done.trySuccess(null));
                    loop.schedule(() -> channel.close(), CANCEL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    ByteBuf out = channel.alloc().buffer(16);
                    new CancelRequest(key.processId(), key.secretKey()).encode(out);
                    channel.writeAndFlush(out);
                });
        return done;
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }
}
