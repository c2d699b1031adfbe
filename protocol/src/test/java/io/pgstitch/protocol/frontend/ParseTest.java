package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** A client's statement name and query text come back byte for byte when read and written one char per byte. */
class ParseTest {

    @Test
    void iso88591KeepsTheNameAndTheQueryByteForByte() {
        byte[] name = {'c', 'a', 'f', (byte) 0xe9};
        byte[] text = QueryTest.everyByte();
        ByteBuf message = Unpooled.buffer().writeByte('P').writeInt(4 + name.length + 1 + text.length + 1 + 2 + 4)
                .writeBytes(name).writeByte(0).writeBytes(text).writeByte(0).writeShort(1).writeInt(25);
        ByteBuf body = message.slice(5, message.readableBytes() - 5);

        Parse parse = Parse.decodeWith(body, StandardCharsets.ISO_8859_1);
        assertThat(parse.statement()).isEqualTo("caf\u00e9");
        assertThat(parse.parameterTypes()).containsExactly(25);

        ByteBuf out = Unpooled.buffer().writeBytes(new byte[] {(byte) 0xca, (byte) 0xfe});
        parse.encodeWith(out, StandardCharsets.ISO_8859_1);
        assertThat(ByteBufUtil.hexDump(out, 2, out.readableBytes() - 2)).isEqualTo(ByteBufUtil.hexDump(message));
        assertThat(Parse.decode(message.slice(5, message.readableBytes() - 5)).statement())
                .as("UTF-8 would lose the byte").isEqualTo("caf\ufffd");
        message.release();
        out.release();
    }
}
