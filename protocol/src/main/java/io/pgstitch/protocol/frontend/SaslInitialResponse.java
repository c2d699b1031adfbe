package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/**
 * SASLInitialResponse: {@code Byte1('p') Int32(len) String(mechanism) Int32(n) Byte[n](data)}; n = -1 means no
 * initial data ({@code data} null).
 */
public record SaslInitialResponse(String mechanism, byte[] data) implements FrontendMessage {

    public static final char TYPE = 'p';

    public static SaslInitialResponse decode(ByteBuf body) {
        String mechanism = Buffers.readCString(body, "SASLInitialResponse mechanism");
        int length = Buffers.readInt(body, "SASLInitialResponse data length");
        byte[] data = length == -1 ? null : Buffers.readBytes(body, length, "SASLInitialResponse data");
        Buffers.expectEnd(body, "SASLInitialResponse");
        return new SaslInitialResponse(mechanism, data);
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        Buffers.writeCString(out, mechanism);
        if (data == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(data.length);
            out.writeBytes(data);
        }
        Buffers.endMessage(out, length);
    }
}
