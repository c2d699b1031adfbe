package io.pgstitch.proxy.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

import java.util.List;
import java.util.function.Supplier;

/**
 * PostgreSQL 17's direct TLS: a client that opens with a TLS handshake record ({@code 0x16}) instead of a
 * startup packet gets TLS at once, without SSLRequest. Looks at the connection's first byte only, then leaves
 * the pipeline: replaced by an SslHandler (the buffered bytes go to it), or removed (they go on to the frame
 * decoder). A PostgreSQL packet never starts with 0x16: its first byte is the high byte of a length under 10 000.
 * The session requires ALPN "postgresql" on such connections, as PostgreSQL does.
 */
public final class DirectTlsDetector extends ByteToMessageDecoder {

    /** The first byte of a TLS record of type handshake. */
    static final int TLS_HANDSHAKE = 0x16;
    /** The pipeline name of the TLS handler, whether started directly or after SSLRequest. */
    static final String TLS_HANDLER = "tls";

    private final Supplier<SslContext> contexts;

    public DirectTlsDetector(Supplier<SslContext> contexts) {
        this.contexts = contexts;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (!in.isReadable()) {
            return;
        }
        if (in.getUnsignedByte(in.readerIndex()) == TLS_HANDSHAKE) {
            ctx.pipeline().replace(this, TLS_HANDLER, new SslHandler(contexts.get().newEngine(ctx.alloc())));
        } else {
            ctx.pipeline().remove(this);
        }
    }
}
