package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Frames what a server sends: every type is accepted (servers add message types; pgstitch relays what it does
 * not know), consecutive DataRow or CopyData messages share one frame. A length outside 4..1 GiB is a FATAL
 * {@code 08P01} {@link PgException}; everything after it is discarded.
 *
 * <p>A large message (see {@link PartialMessage}) of a type the proxy only relays
 * ({@link BackendMessageType#isRelayed}) goes on piecewise as it arrives; one of another type is read whole up to
 * the inspected-message limit, and beyond it is a FATAL {@code 54000} {@link PgException}. A decoder made by
 * {@link #readingWhole} relays nothing: it reads every message whole up to its limit.
 */
public final class BackendFrameDecoder extends ByteToMessageDecoder {

    /** PostgreSQL never sends a message longer than MaxAllocSize. */
    public static final int MAX_LENGTH = 0x3fffffff;

    private final PartialMessage partial = new PartialMessage();
    private final int maxInspectedLength;
    /** Whether large messages of the types the proxy only relays go on piecewise. */
    private final boolean relays;
    private boolean failed;

    private BackendFrameDecoder(int maxInspectedLength, boolean relays) {
        this.maxInspectedLength = maxInspectedLength;
        this.relays = relays;
    }

    /** @param maxInspectedLength the largest length field of a message of a type the proxy reads whole */
    public BackendFrameDecoder(int maxInspectedLength) {
        this(maxInspectedLength, true);
    }

    /** Reads whole messages of any length PostgreSQL may send. */
    public BackendFrameDecoder() {
        this(MAX_LENGTH);
    }

    /**
     * For a client that reads every message it gets (SQL over HTTP's in-process session turns each DataRow into
     * JSON): every message, of any type, is emitted complete; one whose length field exceeds {@code maxLength} is a
     * FATAL {@code 54000} {@link PgException}.
     */
    public static BackendFrameDecoder readingWhole(int maxLength) {
        return new BackendFrameDecoder(maxLength, false);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (partial.underWay()) {
            partial.resume(in, out);
            return;
        }
        if (in.readableBytes() < 5) {
            return;
        }
        int start = in.readerIndex();
        byte type = in.getByte(start);
        int length = in.getInt(start + 1);
        if (length < 4 || length > MAX_LENGTH) {
            fail(in);
            throw Buffers.violation("server message " + Buffers.describeByte(type) + " of length " + length);
        }
        boolean relayed = relays && BackendMessageType.isRelayed(type);
        if (!relayed && length > maxInspectedLength) {
            fail(in);
            throw PgException.fatal(SqlState.PROGRAM_LIMIT_EXCEEDED, "server message " + Buffers.describeByte(type)
                    + " of length " + length + " is longer than the " + maxInspectedLength
                    + " bytes allowed for a message pgstitch reads whole");
        }
        if (in.readableBytes() >= 1 + length) {
            out.add(Frames.slice(in, length, relays ? MAX_LENGTH : maxInspectedLength,
                    BackendMessageType.isCoalescable(type)));
        } else if (length > PartialMessage.WAIT_WHOLE_MAX_LENGTH) {
            if (relayed) {
                partial.relay(in, length, out);
            } else {
                partial.readWhole(ctx.alloc(), in, length);
            }
        }
    }

    private void fail(ByteBuf in) {
        failed = true;
        partial.release();
        in.skipBytes(in.readableBytes());
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        partial.release();
    }
}
