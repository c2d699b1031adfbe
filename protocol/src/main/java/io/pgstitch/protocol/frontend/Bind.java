package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/**
 * The head of a Bind: {@code Byte1('B') Int32(len) String(portal) String(statement) ...parameters}. Only the two
 * names are read, to know which prepared statement a portal runs; the parameters pass through as bytes.
 */
public record Bind(String portal, String statement) {

    public static final char TYPE = 'B';

    public static Bind decodeNames(ByteBuf body) {
        return new Bind(Buffers.readCString(body, "Bind portal name"),
                Buffers.readCString(body, "Bind statement name"));
    }
}
