package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/**
 * Parse: {@code Byte1('P') Int32(len) String(statement) String(query) Int16(n) Int32[n](parameter type OIDs)}.
 * The proxy decodes it to see whether the prepared statement calls an RPC function, and replays it on the RPC
 * connection that runs the statement.
 */
public record Parse(String statement, String query, int[] parameterTypes) implements FrontendMessage {

    public static final char TYPE = 'P';

    public Parse {
        parameterTypes = parameterTypes.clone();
    }

    public static Parse decode(ByteBuf body) {
        String statement = Buffers.readCString(body, "Parse statement name");
        String query = Buffers.readCString(body, "Parse query");
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

    @Override
    public int[] parameterTypes() {
        return parameterTypes.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        Buffers.writeCString(out, statement);
        Buffers.writeCString(out, query);
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
