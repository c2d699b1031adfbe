package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The columns of a result, from RowDescription:
 * <pre>
 * Byte1('T') Int32(len) Int16(n) n × (String(name) Int32(table OID) Int16(column number) Int32(type OID)
 *                                     Int16(type length) Int32(type modifier) Int16(format code))
 * </pre>
 * Only names and type OIDs are kept: they decide how {@link JsonValues} writes each value.
 */
record Columns(List<Column> list) {

    record Column(String name, int typeOid) {
    }

    Columns {
        list = Collections.unmodifiableList(list);
    }

    /** Borrows {@code body}. */
    static Columns decode(ByteBuf body) {
        if (body.readableBytes() < 2) {
            throw Buffers.violation("RowDescription is truncated");
        }
        int count = body.readUnsignedShort();
        List<Column> columns = new ArrayList<>(Math.min(count, 1664)); // PostgreSQL's MaxTupleAttributeNumber
        for (int i = 0; i < count; i++) {
            String name = Buffers.readCString(body, "RowDescription field name");
            if (body.readableBytes() < 18) {
                throw Buffers.violation("RowDescription field \"" + name + "\" is truncated");
            }
            body.skipBytes(6); // table OID, column number
            int type = body.readInt();
            body.skipBytes(8); // type length, type modifier, format
            columns.add(new Column(name, type));
        }
        Buffers.expectEnd(body, "RowDescription");
        return new Columns(columns);
    }

    int size() {
        return list.size();
    }

    int typeOid(int index) {
        return list.get(index).typeOid();
    }

    /** {@code [{"name": ..., "type": "int4", "type_oid": 23}, ...]} */
    void write(JsonOut json) {
        json.beginArray();
        for (Column column : list) {
            json.beginObject().name("name").string(column.name());
            String type = JsonValues.typeName(column.typeOid());
            json.name("type").string(type != null ? type : Integer.toString(column.typeOid()));
            json.name("type_oid").number(column.typeOid() & 0xFFFFFFFFL).endObject();
        }
        json.endArray();
    }
}
