package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** Query: {@code Byte1('Q') Int32(len) String(sql)} — the simple query protocol, possibly several statements. */
public record Query(String sql) implements FrontendMessage {

    public static final char TYPE = 'Q';

    public static Query decode(ByteBuf body) {
        Query query = new Query(Buffers.readCString(body, "Query string"));
        Buffers.expectEnd(body, "Query");
        return query;
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        Buffers.writeCString(out, sql);
        Buffers.endMessage(out, length);
    }
}
