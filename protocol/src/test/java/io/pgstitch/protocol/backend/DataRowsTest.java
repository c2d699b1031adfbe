package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class DataRowsTest {

    /** A DataRow body after some other bytes (a non-zero reader index), as a frame hands it over. */
    private static ByteBuf body(int columns, byte[]... values) {
        ByteBuf body = Unpooled.buffer().writeBytes(new byte[] {9, 9, 9});
        body.readerIndex(3);
        body.writeShort(columns);
        for (byte[] value : values) {
            if (value == null) {
                body.writeInt(-1);
            } else {
                body.writeInt(value.length).writeBytes(value);
            }
        }
        return body;
    }

    @Test
    void theFirstColumnAsText() {
        ByteBuf row = body(2, "caf\u00e9".getBytes(StandardCharsets.UTF_8), "x".getBytes(StandardCharsets.UTF_8));
        assertThat(DataRows.firstColumn(row, StandardCharsets.UTF_8)).isEqualTo("caf\u00e9");
        assertThat(row.readerIndex()).as("read, not consumed").isEqualTo(3);
        row.release();
    }

    @Test
    void nullMissingAndTruncatedColumnsAreNull() {
        ByteBuf nullColumn = body(1, (byte[]) null);
        ByteBuf noColumn = body(0);
        ByteBuf truncated = body(1).writeInt(10).writeBytes(new byte[] {'1', '2'});
        for (ByteBuf row : new ByteBuf[] {nullColumn, noColumn, truncated}) {
            assertThat(DataRows.firstColumn(row, StandardCharsets.US_ASCII)).isNull();
            row.release();
        }
    }
}
