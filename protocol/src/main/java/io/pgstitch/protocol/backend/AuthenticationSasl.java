package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

import java.util.List;

/** AuthenticationSASL: {@code Byte1('R') Int32(len) Int32(10) String(mechanism)* Byte1(0)}. */
public record AuthenticationSasl(List<String> mechanisms) implements Authentication {

    public AuthenticationSasl {
        mechanisms = List.copyOf(mechanisms);
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        out.writeInt(SASL);
        mechanisms.forEach(mechanism -> Buffers.writeCString(out, mechanism));
        out.writeByte(0);
        Buffers.endMessage(out, length);
    }
}
