package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgstitch.protocol.Buffers;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/**
 * Query: {@code Byte1('Q') Int32(len) String(sql)} — the simple query protocol, possibly several statements.
 *
 * <p>The text is in the session's {@code client_encoding}, which only the server interprets. {@link #decode(ByteBuf)}
 * and {@link #encode(ByteBuf)} read and write UTF-8, for the queries the proxy writes itself. A client's text
 * that the proxy passes on, whole or cut, is read and written with {@link StandardCharsets#ISO_8859_1}: one
 * char per byte, so that every byte comes back as it was, in any encoding and valid or not.
 */
public record Query(String sql) implements FrontendMessage {

    public static final char TYPE = 'Q';

    public static Query decode(ByteBuf body) {
        return decodeWith(body, StandardCharsets.UTF_8);
    }

    /** Reads the text in {@code charset}; ISO-8859-1 keeps the client's bytes, one char each. Borrows {@code body}. */
    public static Query decodeWith(ByteBuf body, Charset charset) {
        int length = body.bytesBefore((byte) 0);
        if (length < 0) {
            throw Buffers.violation("Query string is missing its NUL terminator");
        }
        Query query = new Query(body.toString(body.readerIndex(), length, charset));
        body.skipBytes(length + 1);
        Buffers.expectEnd(body, "Query");
        return query;
    }

    @Override
    public void encode(ByteBuf out) {
        encodeWith(out, StandardCharsets.UTF_8);
    }

    /** Writes the text in {@code charset}; with ISO-8859-1, each char is the byte it was read from. */
    public void encodeWith(ByteBuf out, Charset charset) {
        int length = Buffers.beginMessage(out, TYPE);
        out.writeCharSequence(sql, charset);
        out.writeByte(0);
        Buffers.endMessage(out, length);
    }

    /** The complete message in a new buffer from {@code alloc}, its text in {@code charset}; the caller owns it. */
    public ByteBuf encodeWith(ByteBufAllocator alloc, Charset charset) {
        ByteBuf out = alloc.buffer(sql.length() + 6);
        encodeWith(out, charset);
        return out;
    }
}
