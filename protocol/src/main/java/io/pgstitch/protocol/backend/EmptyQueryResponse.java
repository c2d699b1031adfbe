package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** EmptyQueryResponse: {@code Byte1('I') Int32(4)} — the answer to a query string with no statement. */
public final class EmptyQueryResponse implements BackendMessage {

    public static final char TYPE = 'I';
    public static final EmptyQueryResponse INSTANCE = new EmptyQueryResponse();

    private EmptyQueryResponse() {
    }

    @Override
    public void encode(ByteBuf out) {
        Buffers.writeEmptyMessage(out, TYPE);
    }
}
