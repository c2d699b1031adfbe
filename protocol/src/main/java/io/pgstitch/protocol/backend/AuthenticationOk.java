package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;

/** AuthenticationOk: {@code Byte1('R') Int32(8) Int32(0)}. */
public final class AuthenticationOk implements Authentication {

    public static final AuthenticationOk INSTANCE = new AuthenticationOk();

    private AuthenticationOk() {
    }

    @Override
    public void encode(ByteBuf out) {
        Authentication.encode(out, OK, new byte[0]);
    }

    @Override
    public String toString() {
        return "AuthenticationOk";
    }
}
