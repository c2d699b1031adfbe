package io.pgstitch.proxy.admin.console;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.proxy.admin.Table;

import java.nio.charset.StandardCharsets;

/**
 * A {@link Table} as a result set in the simple query protocol: RowDescription, then one DataRow per row (text
 * format). Numeric columns are {@code int8}, the others {@code text}, as PgBouncer's console types them.
 */
final class ResultMessages {

    private static final int TEXT_OID = 25;
    private static final int INT8_OID = 20;

    private ResultMessages() {
    }

    /**
     * RowDescription: {@code Byte1('T') Int32(len) Int16(n)} then per field {@code String(name) Int32(table oid)
     * Int16(attnum) Int32(type oid) Int16(typlen) Int32(typmod) Int16(format)}.
     */
    static ByteBuf rowDescription(ByteBufAllocator alloc, Table table) {
        ByteBuf out = alloc.buffer();
        int length = Buffers.beginMessage(out, 'T');
        out.writeShort(table.columns().size());
        for (Table.Column column : table.columns()) {
            Buffers.writeCString(out, column.name());
            out.writeInt(0);
            out.writeShort(0);
            out.writeInt(column.numeric() ? INT8_OID : TEXT_OID);
            out.writeShort(column.numeric() ? 8 : -1);
            out.writeInt(-1);
            out.writeShort(0);
        }
        Buffers.endMessage(out, length);
        return out;
    }

    /** DataRow: {@code Byte1('D') Int32(len) Int16(n)} then per value {@code Int32(len or -1 for NULL) Byte[len]}. */
    static ByteBuf dataRow(ByteBufAllocator alloc, Object[] values) {
        ByteBuf out = alloc.buffer();
        int length = Buffers.beginMessage(out, 'D');
        out.writeShort(values.length);
        for (Object value : values) {
            if (value == null) {
                out.writeInt(-1);
            } else {
                byte[] text = String.valueOf(value).getBytes(StandardCharsets.UTF_8);
                out.writeInt(text.length);
                out.writeBytes(text);
            }
        }
        Buffers.endMessage(out, length);
        return out;
    }
}
