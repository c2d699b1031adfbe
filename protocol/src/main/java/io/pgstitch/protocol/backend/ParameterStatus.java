package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** ParameterStatus: {@code Byte1('S') Int32(len) String(name) String(value)}. */
public record ParameterStatus(String name, String value) implements BackendMessage {

    public static final char TYPE = 'S';

    public static ParameterStatus decode(ByteBuf body) {
        ParameterStatus status = new ParameterStatus(Buffers.readCString(body, "ParameterStatus name"),
                Buffers.readCString(body, "ParameterStatus value"));
        Buffers.expectEnd(body, "ParameterStatus");
        return status;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        Buffers.writeCString(out, name);
        Buffers.writeCString(out, value);
        Buffers.endMessage(out, length);
    }
}
