package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** SASLResponse: {@code Byte1('p') Int32(len) Byte[n](data)}. */
public record SaslResponse(byte[] data) implements FrontendMessage {

    public static final char TYPE = 'p';

    public static SaslResponse decode(ByteBuf body) {
        return new SaslResponse(Buffers.readBytes(body, body.readableBytes(), "SASLResponse"));
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        out.writeBytes(data);
        Buffers.endMessage(out, length);
    }
}
