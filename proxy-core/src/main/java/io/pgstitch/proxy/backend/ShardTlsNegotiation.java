package io.pgstitch.proxy.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Promise;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.conf.ShardTlsMode;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.frontend.SslRequest;

/**
 * Asks a shard for TLS before the login: sends SSLRequest and reads the one-byte answer. 'S' starts the TLS
 * handshake; 'N' goes on in plaintext only with {@code tls: prefer}. Either way the login (the next handlers'
 * channelActive) starts only then. Bytes that follow the 'S' before the handshake were not encrypted and may be
 * injected (CVE-2021-23222): the connection is abandoned. An ErrorResponse to the SSLRequest (servers that
 * do not know it) is not relayed to the client: the client gets pgstitch's message naming the shard.
 */
final class ShardTlsNegotiation extends ChannelInboundHandlerAdapter {

    private final ShardConfig shard;
    private final ShardTls tls;
    private final Promise<BackendConnection> promise;

    ShardTlsNegotiation(ShardConfig shard, ShardTls tls, Promise<BackendConnection> promise) {
        this.shard = shard;
        this.tls = tls;
        this.promise = promise;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(SslRequest.INSTANCE.encode(ctx.alloc())); // channelActive goes on once TLS is settled
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            int answer = in.readUnsignedByte();
            if (answer == 'S' && in.isReadable()) {
                fail(ctx, "sent unencrypted data after its SSL response (CVE-2021-23222)");
            } else if (answer == 'S') {
                SslHandler handler = new SslHandler(tls.newEngine(shard, ctx.alloc()));
                ctx.pipeline().replace(this, "tls", handler);
                handler.handshakeFuture().addListener(handshake -> {
                    if (handshake.isSuccess()) {
                        ctx.pipeline().context(handler).fireChannelActive();
                    } else {
                        fail(ctx, "TLS handshake failed: " + handshake.cause().getMessage());
                    }
                });
            } else if (answer == 'N' && shard.tls() == ShardTlsMode.PREFER) {
                ctx.pipeline().remove(this);
                ctx.fireChannelActive();
            } else if (answer == 'N') {
                fail(ctx, "does not accept TLS, which shards." + shard.name() + ".tls: " + shard.tls().spelling()
                        + " requires");
            } else {
                fail(ctx, answer == 'E' ? "answered the SSL request with an error"
                        : "answered the SSL request with byte " + answer);
            }
        } catch (PgException e) {
            promise.tryFailure(e);
            ctx.channel().close();
        } finally {
            in.release();
        }
    }

    private void fail(ChannelHandlerContext ctx, String problem) {
        promise.tryFailure(PgException.fatal(SqlState.CONNECTION_FAILURE, "shard \"" + shard.name() + "\" at "
                + shard.host() + ":" + shard.port() + " " + problem));
        ctx.channel().close();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, "failed during TLS negotiation: " + cause.getMessage());
    }
}
