package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgstitch.protocol.PgException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A client's query text comes back byte for byte when read and written one char per byte. */
class QueryTest {

    /** Every byte value a query text can hold: all but NUL. */
    static byte[] everyByte() {
        byte[] bytes = new byte[255];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i + 1);
        }
        return bytes;
    }

    private static ByteBuf body(byte[] text) {
        return Unpooled.buffer().writeBytes(text).writeByte(0);
    }

    @Test
    void iso88591KeepsEveryByteWhateverTheEncoding() {
        byte[] text = everyByte();
        ByteBuf body = body(text);
        Query query = Query.decodeWith(body, StandardCharsets.ISO_8859_1);
        assertThat(query.sql()).hasSize(255);
        assertThat(body.isReadable()).isFalse();

        ByteBuf out = Unpooled.buffer().writeBytes(new byte[] {(byte) 0xca, (byte) 0xfe}); // a non-zero writer index
        query.encodeWith(out, StandardCharsets.ISO_8859_1);
        ByteBuf expected = Unpooled.buffer().writeByte('Q').writeInt(4 + 255 + 1).writeBytes(text).writeByte(0);
        assertThat(ByteBufUtil.hexDump(out, 2, out.readableBytes() - 2)).isEqualTo(ByteBufUtil.hexDump(expected));
        body.release();
        out.release();
        expected.release();
    }

    @Test
    void utf8IsForTheProxysOwnTextsAndLosesOtherBytes() {
        // LATIN1 'café': what pgstitch once sent on as "cafï¿½"
        ByteBuf body = body(new byte[] {'c', 'a', 'f', (byte) 0xe9});
        assertThat(Query.decode(body.duplicate()).sql()).isEqualTo("caf\ufffd");
        assertThat(Query.decodeWith(body, StandardCharsets.ISO_8859_1).sql()).isEqualTo("caf\u00e9");
        ByteBuf exact = new Query("caf\u00e9").encodeWith(ByteBufAllocator.DEFAULT, StandardCharsets.ISO_8859_1);
        assertThat(ByteBufUtil.hexDump(exact)).isEqualTo("51" + "00000009" + "636166e9" + "00");
        body.release();
        exact.release();
    }

    @Test
    void aTextWithoutItsTerminatorIsAProtocolViolation() {
        ByteBuf body = Unpooled.buffer().writeBytes(new byte[] {'s', 'e', 'l'});
        assertThatThrownBy(() -> Query.decodeWith(body, StandardCharsets.ISO_8859_1))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
        ByteBuf trailing = Unpooled.buffer().writeBytes(new byte[] {'x', 0, 'y'});
        assertThatThrownBy(() -> Query.decodeWith(trailing, StandardCharsets.ISO_8859_1))
                .isInstanceOf(PgException.class).hasMessageContaining("trailing");
        body.release();
        trailing.release();
    }
}
