package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * Reading and writing the protocol's primitive types. Readers borrow the buffer they are given and check
 * every length against what is readable before they allocate anything.
 */
public final class Buffers {

    private Buffers() {
    }

    /**
     * Reads a NUL-terminated UTF-8 string. Invalid UTF-8 becomes U+FFFD, so that a caller can refuse it by name.
     *
     * @param what names the field in the error when no terminator is found
     */
    public static String readCString(ByteBuf buf, String what) {
        int length = buf.bytesBefore((byte) 0);
        if (length < 0) {
            throw violation(what + " is missing its NUL terminator");
        }
        String value = buf.toString(buf.readerIndex(), length, StandardCharsets.UTF_8);
        buf.skipBytes(length + 1);
        return value;
    }

    public static void writeCString(ByteBuf out, String value) {
        out.writeCharSequence(value, StandardCharsets.UTF_8);
        out.writeByte(0);
    }

    /** Reads exactly {@code length} bytes, refusing lengths the buffer does not hold. */
    public static byte[] readBytes(ByteBuf buf, int length, String what) {
        if (length < 0 || length > buf.readableBytes()) {
            throw violation(what + " has length " + length + " but only " + buf.readableBytes() + " bytes follow");
        }
        byte[] bytes = new byte[length];
        buf.readBytes(bytes);
        return bytes;
    }

    public static int readInt(ByteBuf buf, String what) {
        if (buf.readableBytes() < 4) {
            throw violation(what + " is truncated");
        }
        return buf.readInt();
    }

    /**
     * Starts a typed message: writes the type byte and a placeholder length.
     *
     * @return the index of the length field, for {@link #endMessage}
     */
    public static int beginMessage(ByteBuf out, char type) {
        out.writeByte(type);
        int lengthIndex = out.writerIndex();
        out.writeInt(0);
        return lengthIndex;
    }

    /** Back-patches the length written by {@link #beginMessage}: it counts itself and the body. */
    public static void endMessage(ByteBuf out, int lengthIndex) {
        out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
    }

    /** A body-less typed message: type byte and length 4. */
    public static void writeEmptyMessage(ByteBuf out, char type) {
        out.writeByte(type);
        out.writeInt(4);
    }

    /** Fails unless the whole body was consumed: trailing bytes mean the peer and we disagree on the layout. */
    public static void expectEnd(ByteBuf buf, String what) {
        if (buf.isReadable()) {
            throw violation(what + " has " + buf.readableBytes() + " unexpected trailing bytes");
        }
    }

    /** A type or status byte for an error message: {@code 'Z'} when printable, {@code 0x00} otherwise. */
    public static String describeByte(byte value) {
        return value >= 0x20 && value < 0x7f ? "'" + (char) value + "'" : String.format("0x%02x", value & 0xFF);
    }

    public static PgException violation(String message) {
        return PgException.fatal(SqlState.PROTOCOL_VIOLATION, "invalid message: " + message);
    }
}
