package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Parse: {@code Byte1('P') Int32(len) String(statement) String(query) Int16(n) Int32[n](parameter type OIDs)}.
 * The proxy decodes it to see whether the prepared statement calls an RPC function, and replays it on the RPC
 * connection that runs the statement.
 *
 * <p>The name and the query are in the session's {@code client_encoding}. As for {@link Query}, the methods
 * without a charset use UTF-8; {@link StandardCharsets#ISO_8859_1} reads and writes a client's bytes exactly.
 */
public record Parse(String statement, String query, int[] parameterTypes) implements FrontendMessage {

    public static final char TYPE = 'P';

    public Parse {
        parameterTypes = parameterTypes.clone();
    }

    public static Parse decode(ByteBuf body) {
        return decodeWith(body, StandardCharsets.UTF_8);
    }

    /** Reads the name and the query in {@code charset}; ISO-8859-1 keeps the client's bytes. Borrows {@code body}. */
    public static Parse decodeWith(ByteBuf body, Charset charset) {
        String statement = readCString(body, charset, "Parse statement name");
        String query = readCString(body, charset, "Parse query");
        if (body.readableBytes() < 2) {
            throw Buffers.violation("Parse is missing its parameter count");
        }
        int count = body.readUnsignedShort();
        if (count * 4L > body.readableBytes()) { // checked before the array is allocated
            throw Buffers.violation("Parse declares " + count + " parameter types but only "
                    + body.readableBytes() + " bytes follow");
        }
        int[] types = new int[count];
        for (int i = 0; i < count; i++) {
            types[i] = body.readInt();
        }
        Buffers.expectEnd(body, "Parse");
        return new Parse(statement, query, types);
    }

    private static String readCString(ByteBuf body, Charset charset, String what) {
        int length = body.bytesBefore((byte) 0);
        if (length < 0) {
            throw Buffers.violation(what + " is missing its NUL terminator");
        }
        String value = body.toString(body.readerIndex(), length, charset);
        body.skipBytes(length + 1);
        return value;
    }

    @Override
    public int[] parameterTypes() {
        return parameterTypes.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        encodeWith(out, StandardCharsets.UTF_8);
    }

    /** Writes the name and the query in {@code charset}; with ISO-8859-1, each char is the byte it was read from. */
    public void encodeWith(ByteBuf out, Charset charset) {
        int length = Buffers.beginMessage(out, TYPE);
        out.writeCharSequence(statement, charset);
        out.writeByte(0);
        out.writeCharSequence(query, charset);
        out.writeByte(0);
        out.writeShort(parameterTypes.length);
        for (int type : parameterTypes) {
            out.writeInt(type);
        }
        Buffers.endMessage(out, length);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Parse parse && statement.equals(parse.statement) && query.equals(parse.query)
                && java.util.Arrays.equals(parameterTypes, parse.parameterTypes);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * statement.hashCode() + query.hashCode()) + java.util.Arrays.hashCode(parameterTypes);
    }

    @Override
    public String toString() {
        return "Parse[statement=" + statement + ", query=" + query + ", " + parameterTypes.length + " types]";
    }
}
