package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/** A message either side sends, as the proxy models it: it can write itself. */
public interface WireMessage {

    /** Writes the complete message (type, back-patched length, body) at {@code out}'s writer index. */
    void encode(ByteBuf out);

    /** The complete message in a new buffer from {@code alloc}; the caller owns it. */
    default ByteBuf encode(ByteBufAllocator alloc) {
        ByteBuf out = alloc.buffer();
        encode(out);
        return out;
    }
}
