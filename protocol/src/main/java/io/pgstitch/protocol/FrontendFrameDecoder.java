package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.pgstitch.protocol.frontend.CancelRequest;
import io.pgstitch.protocol.frontend.GssEncRequest;
import io.pgstitch.protocol.frontend.SslRequest;
import io.pgstitch.protocol.frontend.StartupMessage;

import java.util.List;

/**
 * Frames what a client sends. Every length is checked as soon as its header is readable, before the body is
 * buffered, so a hostile length costs nothing. A violation throws a FATAL {@code 08P01} {@link PgException}
 * (wrapped by Netty in a DecoderException) and the decoder discards everything after it.
 *
 * <p>Once the client is {@linkplain #authenticated authenticated}, a large message (see {@link PartialMessage})
 * that the session only relays (CopyData; Query, Parse, Bind and FunctionCall too unless statements are
 * inspected) goes on piecewise as it arrives; one the session reads is read whole up to the inspected-message
 * limit, and beyond it discarded as it arrives and, once read, reported as an {@link OversizedMessage}.
 */
public final class FrontendFrameDecoder extends ByteToMessageDecoder {

    public enum State {
        /**
         * Untyped packets of at most {@link ProtocolVersion#MAX_STARTUP_PACKET_LENGTH} bytes: SSLRequest and
         * GSSENCRequest (any number, each emitted), CancelRequest, and StartupMessage, which moves on to MESSAGES.
         */
        STARTUP,
        /**
         * Typed messages of the types in {@link FrontendMessageType}, emitted as {@link Frame}s. Until
         * {@link #authenticated()} no message may exceed {@link FrontendMessageType.Limits#AUTH_TOKEN} bytes.
         */
        MESSAGES,
        /** A violation was reported; every further byte is discarded unread. */
        FAILED
    }

    private final PartialMessage partial = new PartialMessage();
    private State state = State.STARTUP;
    private boolean authenticated;
    private boolean statementsInspected = true;
    private int maxInspectedLength = FrontendMessageType.Limits.LARGE;

    public State state() {
        return state;
    }

    /** The client has logged in: statement-sized messages are allowed from now on; nothing more is inspected. */
    public void authenticated() {
        authenticated(false, FrontendMessageType.Limits.LARGE);
    }

    /**
     * The client has logged in: statement-sized messages are allowed from now on.
     *
     * @param statementsInspected the session reads Query, Parse, Bind and FunctionCall (to find RPC calls), so
     *                            they are read whole; otherwise they are relayed piecewise, like CopyData
     * @param maxInspectedLength  the largest length field of a message read whole; a longer one is discarded and
     *                            reported as an {@link OversizedMessage}
     */
    public void authenticated(boolean statementsInspected, int maxInspectedLength) {
        this.authenticated = true;
        this.statementsInspected = statementsInspected;
        this.maxInspectedLength = maxInspectedLength;
    }

    /**
     * Whether bytes arrived that are not decoded yet. Checked right after an SSLRequest: a client must wait
     * for the answer, so plaintext already sent behind it is an injection attempt (CVE-2021-23214).
     */
    public boolean hasBufferedInput() {
        return actualReadableBytes() > 0;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            switch (state) {
                case STARTUP -> decodeStartupPacket(in, out);
                case MESSAGES -> decodeMessage(ctx, in, out);
                case FAILED -> in.skipBytes(in.readableBytes());
            }
        } catch (PgException e) {
            fail(in);
            throw e;
        }
    }

    private void fail(ByteBuf in) {
        state = State.FAILED;
        partial.release();
        in.skipBytes(in.readableBytes());
    }

    /** The client closed (or shut down its side) in the middle of a message it had begun: a violation. */
    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        super.decodeLast(ctx, in, out);
        if (state == State.MESSAGES && partial.underWay()) {
            String missing = partial.remaining() + " bytes of a " + name(partial.type()) + " message";
            fail(in);
            throw Buffers.violation("the connection ended with " + missing + " still to come");
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        partial.release();
    }

    private void decodeStartupPacket(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        int start = in.readerIndex();
        int length = in.getInt(start);
        if (length < 8 || length > ProtocolVersion.MAX_STARTUP_PACKET_LENGTH) {
            throw Buffers.violation("startup packet length " + length + " (must be 8 to "
                    + ProtocolVersion.MAX_STARTUP_PACKET_LENGTH + ")");
        }
        if (in.readableBytes() < length) {
            return;
        }
        int code = in.getInt(start + 4);
        Object message;
        if (code == ProtocolVersion.SSL_REQUEST_CODE || code == ProtocolVersion.GSSENC_REQUEST_CODE) {
            if (length != 8) {
                throw Buffers.violation("SSLRequest/GSSENCRequest of length " + length);
            }
            message = code == ProtocolVersion.SSL_REQUEST_CODE ? SslRequest.INSTANCE : GssEncRequest.INSTANCE;
        } else if (code == ProtocolVersion.CANCEL_REQUEST_CODE) {
            message = CancelRequest.decode(in.slice(start + 8, length - 8));
        } else {
            message = StartupMessage.decode(in.slice(start + 4, length - 4));
            state = State.MESSAGES;
        }
        in.skipBytes(length);
        out.add(message);
    }

    private void decodeMessage(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (partial.underWay()) {
            partial.resume(in, out);
            return;
        }
        if (in.readableBytes() < 5) {
            return;
        }
        int start = in.readerIndex();
        byte type = in.getByte(start);
        FrontendMessageType known = FrontendMessageType.of(type);
        if (known == null) {
            throw Buffers.violation("unknown frontend message type " + Buffers.describeByte(type));
        }
        int length = in.getInt(start + 1);
        int limit = authenticated ? known.maxLength()
                : Math.min(known.maxLength(), FrontendMessageType.Limits.AUTH_TOKEN);
        if (length < 4 || length > limit) {
            throw Buffers.violation(known + " message of length " + length + " (limit " + limit + ")");
        }
        boolean relayed = authenticated && known.isLarge() && (type == 'd' || !statementsInspected);
        if (authenticated && !relayed && length > maxInspectedLength) {
            partial.skip(in, length, new OversizedMessage(type, length, maxInspectedLength), out);
            return;
        }
        if (in.readableBytes() >= 1 + length) {
            out.add(Frames.slice(in, length, limit, FrontendMessageType.isCoalescable(type)));
        } else if (length > PartialMessage.WAIT_WHOLE_MAX_LENGTH) {
            if (relayed) {
                partial.relay(in, length, out);
            } else {
                partial.readWhole(ctx.alloc(), in, length);
            }
        }
    }

    private static String name(byte type) {
        FrontendMessageType known = FrontendMessageType.of(type);
        return known == null ? Buffers.describeByte(type) : known.protocolName();
    }
}
