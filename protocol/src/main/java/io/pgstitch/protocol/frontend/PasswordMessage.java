package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** PasswordMessage: {@code Byte1('p') Int32(len) String(password)} — cleartext or "md5" + hex digest. */
public record PasswordMessage(String password) implements FrontendMessage {

    public static final char TYPE = 'p';

    public static PasswordMessage decode(ByteBuf body) {
        PasswordMessage message = new PasswordMessage(Buffers.readCString(body, "password"));
        Buffers.expectEnd(body, "PasswordMessage");
        return message;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        Buffers.writeCString(out, password);
        Buffers.endMessage(out, length);
    }

    @Override
    public String toString() {
        return "PasswordMessage[<hidden>]";
    }
}
