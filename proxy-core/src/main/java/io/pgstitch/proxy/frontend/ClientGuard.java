package io.pgstitch.proxy.frontend;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * The last handler of every client pipeline, whatever stage is in front of it: every failure of the session ends
 * here in an ErrorResponse and a close (a {@link PgException} as it is, a protocol violation as FATAL 08P01,
 * anything unexpected as FATAL XX000), so no exception reaches the pipeline's tail and no client is left open and
 * silent. Also where the connection's end releases what the session holds.
 */
final class ClientGuard extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ClientGuard.class);

    private final ClientConnection client;

    ClientGuard(ClientConnection client) {
        this.client = client;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg); // a stage has closed: what still arrives is nobody's
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        client.release();
    }

    /** A client that shuts down its writing side before it is logged in is gone (the relay answers it first). */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof ChannelInputShutdownEvent) {
            client.release();
            ctx.close();
        }
        ReferenceCountUtil.release(event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(client, cause);
    }

    /** Ends the session for {@code cause}, with the ErrorResponse it deserves. */
    static void fail(ClientConnection client, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (root instanceof PgException error) {
            client.protocolViolated();
            client.fatal(error.isFatal() ? error : PgException.fatal(error.sqlState(), error.getMessage()));
        } else if (root instanceof IOException) {
            log.debug("client {} connection error: {}", client.channel().remoteAddress(), root.getMessage());
            client.release();
            client.channel().close();
        } else {
            log.error("unexpected failure in session of {}", client.channel().remoteAddress(), root);
            client.fatal(PgException.fatal(SqlState.INTERNAL_ERROR, "internal error in pgstitch: " + root));
        }
    }
}
