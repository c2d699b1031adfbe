package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.PgException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonValuesTest {

    /** RowDescription body: one field per (name, type OID). */
    static ByteBuf rowDescription(Object... nameAndType) {
        ByteBuf body = Unpooled.buffer();
        body.writeShort(nameAndType.length / 2);
        for (int i = 0; i < nameAndType.length; i += 2) {
            Buffers.writeCString(body, (String) nameAndType[i]);
            body.writeInt(0).writeShort(0).writeInt((Integer) nameAndType[i + 1]).writeShort(-1).writeInt(-1)
                    .writeShort(0);
        }
        return body;
    }

    /** A whole DataRow message; a null value is NULL. */
    static void dataRow(ByteBuf out, String... values) {
        int length = Buffers.beginMessage(out, 'D');
        out.writeShort(values.length);
        for (String value : values) {
            if (value == null) {
                out.writeInt(-1);
            } else {
                byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
                out.writeInt(bytes.length).writeBytes(bytes);
            }
        }
        Buffers.endMessage(out, length);
    }

    private static String rows(Columns columns, String[]... rows) {
        ByteBuf messages = Unpooled.buffer();
        messages.writeBytes(new byte[3]).skipBytes(3); // the rows do not start at index 0
        for (String[] row : rows) {
            dataRow(messages, row);
        }
        JsonOut json = new JsonOut(1).beginArray(); // grows as it goes
        assertThat(JsonValues.writeRows(json, messages, rows.length, columns)).isEqualTo(rows.length);
        json.endArray();
        assertThat(messages.readerIndex()).isEqualTo(3); // borrowed, not consumed
        messages.release();
        return json.toString();
    }

    @Test
    void valuesByType() {
        Columns columns = Columns.decode(rowDescription("a", 21, "b", 23, "c", 20, "d", 1700, "e", 701, "f", 700,
                "g", 16, "h", 16, "i", 3802, "j", 114, "k", 25, "l", 1184, "m", 26, "n", 1007));
        assertThat(rows(columns, new String[] {"-1", "2147483647", "9007199254740993", "1.10", "1.5e+300", "NaN",
                "t", "f", "{\"a\": [1, null]}", "[1,2]", "tab\there \"q\" \\ é \u0001", "2024-01-02 03:04:05+00",
                "16384", "{1,2}"}))
                .isEqualTo("[[-1,2147483647,\"9007199254740993\",\"1.10\",1.5e+300,\"NaN\",true,false,"
                        + "{\"a\": [1, null]},[1,2],\"tab\\there \\\"q\\\" \\\\ é \\u0001\","
                        + "\"2024-01-02 03:04:05+00\",16384,\"{1,2}\"]]");
    }

    @Test
    void nullsInfinitiesAndSeveralRows() {
        Columns columns = Columns.decode(rowDescription("x", 701, "y", 23, "z", 25));
        assertThat(rows(columns, new String[] {"Infinity", null, ""}, new String[] {"-Infinity", "0", null}))
                .isEqualTo("[[\"Infinity\",null,\"\"],[\"-Infinity\",0,null]]");
    }

    @Test
    void columnsAsJson() {
        Columns columns = Columns.decode(rowDescription("id", 23, "doc", 3802, "mine", 99999));
        JsonOut out = new JsonOut();
        columns.write(out);
        assertThat(out.toString()).isEqualTo("[{\"name\":\"id\",\"type\":\"int4\","
                + "\"type_oid\":23},{\"name\":\"doc\",\"type\":\"jsonb\",\"type_oid\":3802},{\"name\":\"mine\","
                + "\"type\":\"99999\",\"type_oid\":99999}]");
    }

    @Test
    void aRowThatDisagreesWithItsColumnsIsAViolation() {
        Columns columns = Columns.decode(rowDescription("x", 23));
        ByteBuf messages = Unpooled.buffer();
        dataRow(messages, "1", "2");
        assertThatThrownBy(() -> JsonValues.writeRows(new JsonOut(), messages, 1, columns))
                .isInstanceOf(PgException.class).hasMessageContaining("2 values for 1 columns");
        ByteBuf overrun = Unpooled.buffer();
        int length = Buffers.beginMessage(overrun, 'D');
        overrun.writeShort(1).writeInt(100).writeBytes(new byte[4]);
        Buffers.endMessage(overrun, length);
        assertThatThrownBy(() -> JsonValues.writeRows(new JsonOut(), overrun, 1, columns))
                .isInstanceOf(PgException.class).hasMessageContaining("runs past its message");
        ByteBuf truncated = Unpooled.buffer().writeByte('D').writeInt(100);
        assertThatThrownBy(() -> JsonValues.writeRows(new JsonOut(), truncated, 1, columns))
                .isInstanceOf(PgException.class).hasMessageContaining("does not fit its frame");
        messages.release();
        overrun.release();
        truncated.release();
    }

    @Test
    void truncatedRowDescriptionIsAViolation() {
        ByteBuf body = rowDescription("x", 23);
        ByteBuf cut = body.slice(0, body.readableBytes() - 3);
        assertThatThrownBy(() -> Columns.decode(cut)).isInstanceOf(PgException.class)
                .hasMessageContaining("truncated");
        body.release();
        assertThat(Arrays.asList(JsonValues.typeName(20), JsonValues.typeName(12345))).containsExactly("int8", null);
    }
}
