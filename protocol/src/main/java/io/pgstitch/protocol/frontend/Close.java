package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.frontend.Describe.Target;

/** Close: {@code Byte1('C') Int32(len) Byte1('S' statement | 'P' portal) String(name)}. */
public record Close(Target target, String name) implements FrontendMessage {

    public static final char TYPE = 'C';

    public static Close decode(ByteBuf body) {
        Target target = Target.decode(body, "Close");
        Close close = new Close(target, Buffers.readCString(body, "Close name"));
        Buffers.expectEnd(body, "Close");
        return close;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        out.writeByte(target.code());
        Buffers.writeCString(out, name);
        Buffers.endMessage(out, length);
    }
}
