package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;

/** AuthenticationSASLContinue: {@code Byte1('R') Int32(len) Int32(11) Byte[n](data)}. */
public record AuthenticationSaslContinue(byte[] data) implements Authentication {

    public AuthenticationSaslContinue {
        data = data.clone();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        Authentication.encode(out, SASL_CONTINUE, data);
    }
}
