package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** Execute: {@code Byte1('E') Int32(len) String(portal) Int32(maximum rows, 0 = all)}. */
public record Execute(String portal, int maxRows) implements FrontendMessage {

    public static final char TYPE = 'E';

    public static Execute decode(ByteBuf body) {
        String portal = Buffers.readCString(body, "Execute portal name");
        Execute execute = new Execute(portal, Buffers.readInt(body, "Execute row limit"));
        Buffers.expectEnd(body, "Execute");
        return execute;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        Buffers.writeCString(out, portal);
        out.writeInt(maxRows);
        Buffers.endMessage(out, length);
    }
}
