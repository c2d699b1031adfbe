package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** CommandComplete: {@code Byte1('C') Int32(len) String(tag)}, e.g. {@code SELECT 1}, {@code INSERT 0 3}. */
public record CommandComplete(String tag) implements BackendMessage {

    public static final char TYPE = 'C';

    public static CommandComplete decode(ByteBuf body) {
        CommandComplete complete = new CommandComplete(Buffers.readCString(body, "CommandComplete tag"));
        Buffers.expectEnd(body, "CommandComplete");
        return complete;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        Buffers.writeCString(out, tag);
        Buffers.endMessage(out, length);
    }
}
