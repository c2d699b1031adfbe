package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgstitch.protocol.backend.CommandComplete;
import io.pgstitch.protocol.backend.ReadyForQuery;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendFrameDecoderTest {

    private final EmbeddedChannel channel = new EmbeddedChannel(new BackendFrameDecoder());

    @AfterEach
    void noLeaks() {
        channel.finishAndReleaseAll();
    }

    private static void dataRow(ByteBuf out, int value) {
        out.writeByte('D').writeInt(4 + 2 + 4 + 4).writeShort(1).writeInt(4).writeInt(value);
    }

    @Test
    void aResultSetCostsOneFramePerRead() {
        ByteBuf result = Unpooled.buffer();
        result.writeByte('T').writeInt(4 + 2).writeShort(0); // a simplified RowDescription
        for (int i = 0; i < 100; i++) {
            dataRow(result, i);
        }
        new CommandComplete("SELECT 100").encode(result);
        ReadyForQuery.IDLE.encode(result);
        channel.writeInbound(result);

        Frame description = channel.readInbound();
        assertThat(description.type()).isEqualTo((byte) 'T');
        description.release();
        Frame rows = channel.readInbound();
        assertThat(rows.type()).isEqualTo((byte) 'D');
        assertThat(rows.messageCount()).isEqualTo(100);
        assertThat(rows.content().readableBytes()).isEqualTo(100 * 15);
        assertThat(rows.body().getInt(6)).as("first row's value").isZero();
        rows.release();
        Frame complete = channel.readInbound();
        assertThat(CommandComplete.decode(complete.body()).tag()).isEqualTo("SELECT 100");
        complete.release();
        Frame ready = channel.readInbound();
        assertThat(ReadyForQuery.decode(ready.body())).isSameAs(ReadyForQuery.IDLE);
        ready.release();
    }

    @Test
    void aPartialRowEndsTheRunAndArrivesLater() {
        ByteBuf rows = Unpooled.buffer();
        dataRow(rows, 1);
        dataRow(rows, 2);
        ByteBuf first = rows.readRetainedSlice(20); // one row and 5 bytes of the next
        channel.writeInbound(first);
        Frame one = channel.readInbound();
        assertThat(one.messageCount()).isEqualTo(1);
        one.release();
        channel.writeInbound(rows);
        Frame two = channel.readInbound();
        assertThat(two.messageCount()).isEqualTo(1);
        assertThat(two.body().getInt(6)).isEqualTo(2);
        two.release();
    }

    @Test
    void unknownTypesPassThrough() {
        channel.writeInbound(Unpooled.buffer().writeByte('%').writeInt(5).writeByte(1));
        Frame frame = channel.readInbound();
        assertThat(frame.type()).isEqualTo((byte) '%');
        frame.release();
    }

    @Test
    void absurdLengthFailsBeforeBuffering() {
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeByte('D').writeInt(0x7fffffff)))
                .hasRootCauseInstanceOf(PgException.class)
                .hasMessageContaining("of length 2147483647");
        channel.writeInbound(Unpooled.buffer().writeByte('Z').writeInt(5).writeByte('I'));
        assertThat((Object) channel.readInbound()).as("nothing after a violation").isNull();
    }

    @Test
    void lengthBelowFour() {
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeByte('Z').writeInt(3)))
                .hasRootCauseInstanceOf(PgException.class);
    }

    @Test
    void onlyDataRowAndCopyDataRunsAreCoalesced() {
        ByteBuf in = Unpooled.buffer();
        for (int i = 0; i < 2; i++) {
            in.writeByte('d').writeInt(5).writeByte(i); // CopyData of a COPY TO STDOUT
        }
        for (int i = 0; i < 2; i++) {
            in.writeByte('S').writeInt(8).writeBytes(new byte[] {'a', 0, 'b', 0}); // ParameterStatus a=b
        }
        for (int i = 0; i < 2; i++) {
            in.writeByte('N').writeInt(5).writeByte(0); // an empty NoticeResponse
        }
        channel.writeInbound(in);
        java.util.List<String> frames = new java.util.ArrayList<>();
        for (Frame frame = channel.readInbound(); frame != null; frame = channel.readInbound()) {
            frames.add(io.netty.buffer.ByteBufUtil.hexDump(frame.content()) + " x" + frame.messageCount());
            frame.release();
        }
        assertThat(frames).containsExactly("640000000500" + "640000000501" + " x2",
                "530000000861006200 x1", "530000000861006200 x1", "4e0000000500 x1", "4e0000000500 x1");
    }
}
