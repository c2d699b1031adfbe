package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Frames what a server sends: every type is accepted (servers add message types; pgstitch relays what it does
 * not know), consecutive DataRow or CopyData messages share one frame. A length outside 4..1 GiB is a FATAL
 * {@code 08P01} {@link PgException}; everything after it is discarded.
 */
public final class BackendFrameDecoder extends ByteToMessageDecoder {

    /** PostgreSQL never sends a message longer than MaxAllocSize. */
    public static final int MAX_LENGTH = 0x3fffffff;

    private boolean failed;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (in.readableBytes() < 5) {
            return;
        }
        int start = in.readerIndex();
        int length = in.getInt(start + 1);
        if (length < 4 || length > MAX_LENGTH) {
            failed = true;
            byte type = in.getByte(start);
            in.skipBytes(in.readableBytes());
            throw Buffers.violation("server message " + Buffers.describeByte(type) + " of length " + length);
        }
        if (in.readableBytes() < 1 + length) {
            return;
        }
        out.add(Frames.slice(in, length, MAX_LENGTH, BackendMessageType.isCoalescable(in.getByte(start))));
    }
}
