package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** Describe: {@code Byte1('D') Int32(len) Byte1('S' statement | 'P' portal) String(name)}. */
public record Describe(Target target, String name) implements FrontendMessage {

    public static final char TYPE = 'D';

    public static Describe decode(ByteBuf body) {
        Target target = Target.decode(body, "Describe");
        Describe describe = new Describe(target, Buffers.readCString(body, "Describe name"));
        Buffers.expectEnd(body, "Describe");
        return describe;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        out.writeByte(target.code());
        Buffers.writeCString(out, name);
        Buffers.endMessage(out, length);
    }

    /** What Describe and Close name: a prepared statement or a portal. */
    public enum Target {
        STATEMENT('S'),
        PORTAL('P');

        private final char code;

        Target(char code) {
            this.code = code;
        }

        public char code() {
            return code;
        }

        static Target decode(ByteBuf body, String message) {
            if (!body.isReadable()) {
                throw Buffers.violation(message + " is missing its target type");
            }
            byte code = body.readByte();
            return switch (code) {
                case 'S' -> STATEMENT;
                case 'P' -> PORTAL;
                default -> throw Buffers.violation(message + " target type " + (code & 0xFF) + " is neither S nor P");
            };
        }
    }
}
