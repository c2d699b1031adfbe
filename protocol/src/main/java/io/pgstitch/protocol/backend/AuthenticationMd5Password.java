package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;

/** AuthenticationMD5Password: {@code Byte1('R') Int32(12) Int32(5) Byte4(salt)}. */
public record AuthenticationMd5Password(byte[] salt) implements Authentication {

    public AuthenticationMd5Password {
        salt = salt.clone();
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        Authentication.encode(out, MD5_PASSWORD, salt);
    }
}
