package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;

/** AuthenticationCleartextPassword: {@code Byte1('R') Int32(8) Int32(3)}. */
public final class AuthenticationCleartextPassword implements Authentication {

    public static final AuthenticationCleartextPassword INSTANCE = new AuthenticationCleartextPassword();

    private AuthenticationCleartextPassword() {
    }

    @Override
    public void encode(ByteBuf out) {
        Authentication.encode(out, CLEARTEXT_PASSWORD, new byte[0]);
    }

    @Override
    public String toString() {
        return "AuthenticationCleartextPassword";
    }
}
