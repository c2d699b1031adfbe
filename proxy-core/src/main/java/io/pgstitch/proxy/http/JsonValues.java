package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.pgstitch.protocol.Buffers;

import java.util.Map;

/**
 * Writes the values of DataRow messages as JSON, by the column's type OID (text format, which the simple query
 * protocol and an Execute without result formats give):
 * <ul>
 *   <li>int2, int4, oid, float4, float8: numbers (a float's NaN and ±Infinity, which JSON lacks, as strings);</li>
 *   <li>bool: true or false; json, jsonb: the JSON value itself; NULL: null;</li>
 *   <li>everything else, as PostgreSQL printed it, a string: int8 and numeric too (JavaScript numbers would lose
 *       digits), timestamps (ISO, as the session asks DateStyle ISO), arrays, bytea (hex).</li>
 * </ul>
 * A DataRow is {@code Byte1('D') Int32(len) Int16(n) n × (Int32(value length, -1 for NULL) Byte[length])}.
 */
final class JsonValues {

    static final int BOOL = 16;
    static final int INT8 = 20;
    static final int INT2 = 21;
    static final int INT4 = 23;
    static final int OID = 26;
    static final int JSON = 114;
    static final int FLOAT4 = 700;
    static final int FLOAT8 = 701;
    static final int JSONB = 3802;

    private static final Map<Integer, String> NAMES = Map.ofEntries(Map.entry(BOOL, "bool"),
            Map.entry(17, "bytea"), Map.entry(18, "char"), Map.entry(19, "name"), Map.entry(INT8, "int8"),
            Map.entry(INT2, "int2"), Map.entry(INT4, "int4"), Map.entry(25, "text"), Map.entry(OID, "oid"),
            Map.entry(JSON, "json"), Map.entry(FLOAT4, "float4"), Map.entry(FLOAT8, "float8"),
            Map.entry(1042, "bpchar"), Map.entry(1043, "varchar"), Map.entry(1082, "date"), Map.entry(1083, "time"),
            Map.entry(1114, "timestamp"), Map.entry(1184, "timestamptz"), Map.entry(1186, "interval"),
            Map.entry(1266, "timetz"), Map.entry(1700, "numeric"), Map.entry(2950, "uuid"), Map.entry(JSONB, "jsonb"),
            Map.entry(1000, "bool[]"), Map.entry(1005, "int2[]"), Map.entry(1007, "int4[]"),
            Map.entry(1009, "text[]"), Map.entry(1016, "int8[]"), Map.entry(1015, "varchar[]"),
            Map.entry(3807, "jsonb[]"), Map.entry(2951, "uuid[]"), Map.entry(869, "inet"), Map.entry(650, "cidr"),
            Map.entry(2278, "void"), Map.entry(3614, "tsvector"), Map.entry(142, "xml"));

    private JsonValues() {
    }

    /** The built-in type's name, or null for a type this table does not list (its OID is reported instead). */
    static String typeName(int oid) {
        return NAMES.get(oid);
    }

    /**
     * Writes the rows of {@code messages} (consecutive DataRow messages, borrowed) as arrays of values. The
     * messages are copied into an array once: every value is then read without a buffer's per-call checks.
     *
     * @return how many rows were written
     */
    static int writeRows(JsonOut json, ByteBuf messages, int count, Columns columns) {
        byte[] in = ByteBufUtil.getBytes(messages);
        int index = 0;
        for (int row = 0; row < count; row++) {
            if (index + 5 > in.length || in[index] != 'D') {
                throw Buffers.violation(index + 5 > in.length ? "DataRow is truncated"
                        : "expected a DataRow, got message type " + Buffers.describeByte(in[index]));
            }
            int end = index + 1 + readInt(in, index + 1);
            if (end > in.length || end < index + 7) {
                throw Buffers.violation("DataRow of length " + (end - index - 1) + " does not fit its frame");
            }
            writeRow(json, in, index + 5, end, columns);
            index = end;
        }
        return count;
    }

    private static int readInt(byte[] in, int at) {
        return (in[at] & 0xFF) << 24 | (in[at + 1] & 0xFF) << 16 | (in[at + 2] & 0xFF) << 8 | in[at + 3] & 0xFF;
    }

    private static void writeRow(JsonOut json, byte[] in, int start, int end, Columns columns) {
        int values = (in[start] & 0xFF) << 8 | in[start + 1] & 0xFF;
        if (values != columns.size()) {
            throw Buffers.violation("DataRow has " + values + " values for " + columns.size() + " columns");
        }
        int at = start + 2;
        json.beginArray();
        for (int i = 0; i < values; i++) {
            if (at + 4 > end) {
                throw Buffers.violation("DataRow is truncated");
            }
            int length = readInt(in, at);
            at += 4;
            if (length == -1) {
                json.nullValue();
                continue;
            }
            if (length < 0 || length > end - at) {
                throw Buffers.violation("DataRow value of length " + length + " runs past its message");
            }
            writeValue(json, in, at, length, columns.typeOid(i));
            at += length;
        }
        json.endArray();
    }

    private static void writeValue(JsonOut json, byte[] in, int at, int length, int type) {
        if (length == 0) { // only text types print nothing; anything else would be no JSON value
            json.utf8String(in, at, 0);
            return;
        }
        switch (type) {
            case INT2, INT4, OID -> json.raw(in, at, length);
            case FLOAT4, FLOAT8 -> {
                byte last = in[at + length - 1];
                if (last == 'N' || last == 'y') { // NaN, Infinity, -Infinity: no JSON number
                    json.utf8String(in, at, length);
                } else {
                    json.raw(in, at, length);
                }
            }
            case BOOL -> json.bool(length == 1 && in[at] == 't');
            case JSON, JSONB -> json.raw(in, at, length);
            default -> json.utf8String(in, at, length);
        }
    }
}
