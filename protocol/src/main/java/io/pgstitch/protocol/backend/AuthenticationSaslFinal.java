package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;

/** AuthenticationSASLFinal: {@code Byte1('R') Int32(len) Int32(12) Byte[n](data)}. */
public record AuthenticationSaslFinal(byte[] data) implements Authentication {

    public AuthenticationSaslFinal {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        Authentication.encode(out, SASL_FINAL, data);
    }
}
