package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;

import java.nio.charset.Charset;

/**
 * Reading the answer to a query pgstitch sends itself: a DataRow is {@code Int16(columns)} then, per column,
 * {@code Int32(length or -1)} and its bytes. The proxy never decodes the rows it relays.
 */
public final class DataRows {

    private DataRows() {
    }

    /** The first column of a DataRow body, as text in {@code charset}; null when it is NULL or the row is malformed. */
    public static String firstColumn(ByteBuf body, Charset charset) {
        int start = body.readerIndex();
        if (body.readableBytes() < 6 || body.getShort(start) < 1) {
            return null;
        }
        int length = body.getInt(start + 2);
        return length < 0 || length > body.readableBytes() - 6 ? null : body.toString(start + 6, length, charset);
    }
}
