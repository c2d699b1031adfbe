package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.DecoderException;
import io.pgstitch.protocol.frontend.StartupMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Large messages at both decoders: what the proxy only relays comes out piecewise as it arrives (a head, then
 * continuations, never the whole message cumulated); what it reads comes out whole from a buffer of exactly its
 * size, up to the limit; beyond the limit it is refused without being buffered.
 */
class LargeMessageDecodingTest {

    /** Over {@link PartialMessage#WAIT_WHOLE_MAX_LENGTH}: taken piecewise when it does not arrive whole. */
    private static final int LARGE = PartialMessage.WAIT_WHOLE_MAX_LENGTH + 1000;

    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void noLeaks() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    private EmbeddedChannel channel(ChannelHandler decoder) {
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channels.add(channel);
        return channel;
    }

    /** A message of {@code type} whose body is {@code bodyLength} bytes of a counting pattern. */
    private static void message(ByteBuf out, char type, int bodyLength) {
        out.writeByte(type).writeInt(4 + bodyLength);
        for (int i = 0; i < bodyLength; i++) {
            out.writeByte(i * 31 + bodyLength);
        }
    }

    /** Two DataRows, a large DataRow, a CommandComplete and a ReadyForQuery, as a server sends them. */
    private static ByteBuf resultWithALargeRow() {
        ByteBuf in = Unpooled.buffer();
        message(in, 'D', 10);
        message(in, 'D', 11);
        message(in, 'D', LARGE);
        message(in, 'C', 9);
        in.writeByte('Z').writeInt(5).writeByte('I');
        return in;
    }

    /**
     * Reassembles the frames read from {@code channel}, checking each one's shape: complete frames hold whole
     * messages, a head is followed only by its continuations (same type, remaining counting down to 0).
     */
    private static byte[] drain(EmbeddedChannel channel, List<String> shapes) {
        ByteBuf all = Unpooled.buffer();
        int remaining = 0;
        byte streamType = 0;
        for (Object msg = channel.readInbound(); msg != null; msg = channel.readInbound()) {
            Frame frame = (Frame) msg;
            ByteBuf content = frame.content();
            if (frame.isContinuation()) {
                assertThat(remaining).as("a continuation follows a head").isPositive();
                assertThat(frame.type()).isEqualTo(streamType);
                assertThat(frame.remaining()).isEqualTo(remaining - content.readableBytes());
                remaining = frame.remaining();
                shapes.add("+" + content.readableBytes());
            } else {
                assertThat(remaining).as("nothing comes between a head and its last continuation").isZero();
                int length = content.getInt(content.readerIndex() + 1);
                if (frame.isComplete()) {
                    int messages = 0;
                    for (int i = content.readerIndex(); i < content.writerIndex(); i += 1 + content.getInt(i + 1)) {
                        assertThat(content.getByte(i)).isEqualTo(frame.type());
                        messages++;
                    }
                    assertThat(messages).isEqualTo(frame.messageCount());
                    assertThat(frame.body().readableBytes()).isEqualTo(length - 4);
                    shapes.add((char) frame.type() + "x" + messages);
                } else {
                    assertThat(frame.remaining()).isEqualTo(1 + length - content.readableBytes());
                    remaining = frame.remaining();
                    streamType = frame.type();
                    shapes.add((char) frame.type() + "...");
                }
            }
            all.writeBytes(content, content.readerIndex(), content.readableBytes());
            frame.release();
        }
        assertThat(remaining).as("the last message ended").isZero();
        byte[] bytes = new byte[all.readableBytes()];
        all.readBytes(bytes);
        all.release();
        return bytes;
    }

    @Test
    void aResultWithALargeRowSplitAtEveryByteBoundary() {
        ByteBuf whole = resultWithALargeRow();
        byte[] expected = new byte[whole.readableBytes()];
        whole.getBytes(0, expected);
        for (int split = 1; split < expected.length; split++) {
            EmbeddedChannel channel = new EmbeddedChannel(new BackendFrameDecoder());
            channel.writeInbound(whole.retainedSlice(0, split));
            channel.writeInbound(whole.retainedSlice(split, expected.length - split));
            List<String> shapes = new ArrayList<>();
            byte[] got = drain(channel, shapes);
            assertThat(Arrays.equals(got, expected)).as("bytes out = bytes in, split at %d", split).isTrue();
            // the large row (from offset 31) goes piecewise when the first part has its header but not all of it
            boolean piecewise = split >= 31 + 5 && split < 31 + 5 + LARGE;
            assertThat(shapes.contains("D...")).as("split at %d: %s", split, shapes).isEqualTo(piecewise);
            assertThat(channel.finish()).isFalse();
        }
        whole.release();
    }

    @Test
    void aResultWithALargeRowInRandomPieces() {
        ByteBuf whole = resultWithALargeRow();
        byte[] expected = new byte[whole.readableBytes()];
        whole.getBytes(0, expected);
        Random random = new Random(12);
        for (int round = 0; round < 300; round++) {
            EmbeddedChannel channel = new EmbeddedChannel(new BackendFrameDecoder());
            int offset = 0;
            while (offset < expected.length) {
                int n = Math.min(expected.length - offset, 1 + random.nextInt(round % 2 == 0 ? 16 : 9000));
                channel.writeInbound(whole.retainedSlice(offset, n));
                offset += n;
            }
            assertThat(Arrays.equals(drain(channel, new ArrayList<>()), expected)).isTrue();
            assertThat(channel.finish()).isFalse();
        }
        whole.release();
    }

    @Test
    void smallRowsAreStillCoalescedAroundALargeOne() {
        EmbeddedChannel channel = channel(new BackendFrameDecoder());
        ByteBuf in = resultWithALargeRow();
        channel.writeInbound(in.readRetainedSlice(15 + 16 + 5 + 100)); // two rows, the large row's start
        channel.writeInbound(in); // the rest
        List<String> shapes = new ArrayList<>();
        drain(channel, shapes);
        assertThat(shapes).containsExactly("Dx2", "D...", "+" + (LARGE - 100), "Cx1", "Zx1");
    }

    /** A decoder reading whole relays nothing: the large row comes out complete, the small ones still coalesced. */
    @Test
    void readingWholeEmitsALargeRowComplete() {
        EmbeddedChannel channel = channel(BackendFrameDecoder.readingWhole(1 << 20));
        ByteBuf in = resultWithALargeRow();
        byte[] expected = new byte[in.readableBytes()];
        in.getBytes(0, expected);
        channel.writeInbound(in.readRetainedSlice(15 + 16 + 5 + 100));
        channel.writeInbound(in.readRetainedSlice(30_000));
        channel.writeInbound(in);
        List<String> shapes = new ArrayList<>();
        assertThat(drain(channel, shapes)).isEqualTo(expected);
        assertThat(shapes).containsExactly("Dx2", "Dx1", "Cx1", "Zx1");
    }

    @Test
    void readingWholeRefusesARowOverTheLimitBeforeBuffering() {
        EmbeddedChannel channel = channel(BackendFrameDecoder.readingWhole(1 << 20));
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeByte('D').writeInt(4 + (2 << 20))))
                .isInstanceOf(DecoderException.class)
                .rootCause().isInstanceOf(PgException.class)
                .hasMessage("server message 'D' of length 2097156 is longer than the 1048576 bytes allowed for a"
                        + " message pgstitch reads whole")
                .satisfies(e -> assertThat(((PgException) e).sqlState()).isEqualTo(SqlState.PROGRAM_LIMIT_EXCEEDED));
    }

    /** 64 MiB arriving in 64 KiB reads: every read comes out at once, as one piece; nothing is cumulated. */
    @Test
    void aSixtyFourMebibyteRowIsRelayedReadByRead() {
        EmbeddedChannel channel = channel(new BackendFrameDecoder(1 << 20));
        int length = 4 + (64 << 20);
        int read = 64 * 1024;
        ByteBuf chunk = Unpooled.buffer(read).writeZero(read);
        ByteBuf header = Unpooled.buffer().writeByte('D').writeInt(length);
        channel.writeInbound(header);
        Frame head = channel.readInbound();
        assertThat(head.content().readableBytes()).isEqualTo(5);
        assertThat(head.remaining()).isEqualTo(length - 4);
        head.release();
        long left = length - 4;
        int pieces = 0;
        while (left > 0) {
            channel.writeInbound(chunk.retainedDuplicate());
            Frame piece = channel.readInbound();
            assertThat(piece.isContinuation()).isTrue();
            assertThat(piece.content().readableBytes()).as("one read, one piece, no more").isEqualTo(read);
            left -= read;
            assertThat(piece.remaining()).isEqualTo(left);
            assertThat((Object) channel.readInbound()).isNull();
            piece.release();
            pieces++;
        }
        chunk.release();
        assertThat(pieces).isEqualTo(1024);
        ByteBuf next = Unpooled.buffer().writeByte('Z').writeInt(5).writeByte('I');
        channel.writeInbound(next);
        Frame ready = channel.readInbound();
        assertThat(ready.isComplete()).isTrue();
        ready.release();
    }

    /** A message the proxy reads comes whole, copied once into a buffer of exactly its size, up to the limit. */
    @Test
    void aSixtyFourMebibyteErrorResponseIsReadIntoOneExactBuffer() {
        CountingAllocator alloc = new CountingAllocator();
        EmbeddedChannel channel = channel(new BackendFrameDecoder(128 << 20));
        channel.config().setAllocator(alloc);
        int length = 4 + (64 << 20);
        channel.writeInbound(Unpooled.buffer().writeByte('E').writeInt(length));
        int read = 64 * 1024;
        for (long left = length - 4; left > 0; left -= read) {
            assertThat((Object) channel.readInbound()).isNull();
            channel.writeInbound(Unpooled.buffer(read).writeZero(read));
        }
        Frame error = channel.readInbound();
        assertThat(error.isComplete()).isTrue();
        assertThat(error.content().readableBytes()).isEqualTo(1 + length);
        assertThat(alloc.large).as("one allocation of the message's size, never grown").containsExactly(1 + length);
        error.release();
    }

    @Test
    void aServerMessageReadWholeOverTheLimitIsRefusedBeforeBuffering() {
        EmbeddedChannel channel = channel(new BackendFrameDecoder(1 << 20));
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeByte('E').writeInt(4 + (2 << 20))))
                .isInstanceOf(DecoderException.class)
                .rootCause().isInstanceOf(PgException.class)
                .hasMessage("server message 'E' of length 2097156 is longer than the 1048576 bytes allowed for a"
                        + " message pgstitch reads whole")
                .satisfies(e -> assertThat(((PgException) e).sqlState()).isEqualTo(SqlState.PROGRAM_LIMIT_EXCEEDED));
        channel.writeInbound(Unpooled.buffer().writeByte('Z').writeInt(5).writeByte('I'));
        assertThat((Object) channel.readInbound()).as("nothing after it").isNull();
    }

    @Test
    void aServerMessageBeingReadWholeIsReleasedWhenTheConnectionCloses() {
        CountingAllocator alloc = new CountingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(new BackendFrameDecoder());
        channel.config().setAllocator(alloc);
        channel.writeInbound(Unpooled.buffer().writeByte('S').writeInt(4 + LARGE).writeZero(100));
        assertThat(alloc.buffers).hasSize(1);
        assertThat(channel.finishAndReleaseAll()).isFalse();
        assertThat(alloc.buffers.get(0).refCnt()).isZero();
    }

    // the client side

    private EmbeddedChannel loggedIn(boolean statementsInspected, int maxInspectedLength) {
        FrontendFrameDecoder decoder = new FrontendFrameDecoder();
        EmbeddedChannel channel = channel(decoder);
        ByteBuf startup = Unpooled.buffer();
        new StartupMessage(ProtocolVersion.V3_0, Map.of("user", "u", "database", "d")).encode(startup);
        channel.writeInbound(startup);
        assertThat((Object) channel.readInbound()).isInstanceOf(StartupMessage.class);
        decoder.authenticated(statementsInspected, maxInspectedLength);
        return channel;
    }

    @Test
    void aLargeQueryIsRelayedWhenStatementsAreNotInspected() {
        EmbeddedChannel channel = loggedIn(false, 1 << 16);
        ByteBuf in = Unpooled.buffer();
        message(in, 'Q', LARGE);
        in.writeByte('S').writeInt(4);
        channel.writeInbound(in.readRetainedSlice(1000));
        channel.writeInbound(in);
        List<String> shapes = new ArrayList<>();
        drain(channel, shapes);
        assertThat(shapes).containsExactly("Q...", "+" + (LARGE + 5 - 1000), "Sx1");
    }

    @Test
    void aQueryOverTheLimitIsDiscardedAsItArrivesAndReported() {
        EmbeddedChannel channel = loggedIn(true, 1 << 16);
        ByteBuf in = Unpooled.buffer();
        message(in, 'Q', LARGE);
        message(in, 'Q', 8);
        CountingAllocator alloc = new CountingAllocator();
        channel.config().setAllocator(alloc);
        while (in.readableBytes() > 13) {
            assertThat((Object) channel.readInbound()).as("nothing comes until the message has been read").isNull();
            channel.writeInbound(in.readRetainedSlice(Math.min(4096, in.readableBytes() - 13)));
        }
        assertThat((Object) channel.readInbound()).isEqualTo(new OversizedMessage((byte) 'Q', 4 + LARGE, 1 << 16));
        assertThat(alloc.buffers).as("the body is not buffered").isEmpty();
        channel.writeInbound(in);
        Frame next = channel.readInbound();
        assertThat(next.isComplete()).isTrue();
        assertThat(next.bodyLength()).as("the next Query decodes as usual").isEqualTo(8);
        next.release();
    }

    @Test
    void aLargeQueryUnderTheLimitIsReadWholeWhenStatementsAreInspected() {
        EmbeddedChannel channel = loggedIn(true, 1 << 20);
        ByteBuf in = Unpooled.buffer();
        message(in, 'Q', LARGE);
        byte[] expected = new byte[in.readableBytes()];
        in.getBytes(0, expected);
        while (in.isReadable()) {
            channel.writeInbound(in.readRetainedSlice(Math.min(777, in.readableBytes())));
        }
        in.release();
        List<String> shapes = new ArrayList<>();
        assertThat(drain(channel, shapes)).isEqualTo(expected);
        assertThat(shapes).containsExactly("Qx1");
    }

    @Test
    void copyDataIsRelayedEvenWhenStatementsAreInspected() {
        EmbeddedChannel channel = loggedIn(true, 1 << 16);
        ByteBuf in = Unpooled.buffer();
        message(in, 'd', 4 * LARGE);
        channel.writeInbound(in.readRetainedSlice(100));
        channel.writeInbound(in);
        List<String> shapes = new ArrayList<>();
        drain(channel, shapes);
        assertThat(shapes).containsExactly("d...", "+" + (4 * LARGE + 5 - 100));
    }

    @Test
    void aClientThatStopsSendingInTheMiddleOfAMessageBreaksTheProtocol() {
        EmbeddedChannel channel = loggedIn(false, 1 << 16);
        ByteBuf in = Unpooled.buffer();
        message(in, 'd', LARGE);
        channel.writeInbound(in.readRetainedSlice(100));
        in.release();
        Frame head = channel.readInbound();
        head.release();
        channel.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThatThrownBy(channel::checkException)
                .rootCause().isInstanceOf(PgException.class)
                .hasMessage("invalid message: the connection ended with " + (LARGE + 5 - 100)
                        + " bytes of a CopyData message still to come");
    }

    @Test
    void beforeLoginNothingLargeIsAccepted() {
        FrontendFrameDecoder decoder = new FrontendFrameDecoder();
        EmbeddedChannel channel = channel(decoder);
        ByteBuf startup = Unpooled.buffer();
        new StartupMessage(ProtocolVersion.V3_0, Map.of("user", "u", "database", "d")).encode(startup);
        channel.writeInbound(startup);
        channel.readInbound();
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeByte('p').writeInt(4 + LARGE)))
                .rootCause().hasMessageContaining("limit 65535");
    }

    /** Records the buffers it hands out; those of 1 MiB or more by size. */
    private static final class CountingAllocator extends AbstractByteBufAllocator {
        final List<Integer> large = new ArrayList<>();
        final List<ByteBuf> buffers = new ArrayList<>();

        CountingAllocator() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return record(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity), initialCapacity);
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return newHeapBuffer(initialCapacity, maxCapacity);
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        private ByteBuf record(ByteBuf buf, int capacity) {
            buffers.add(buf);
            if (capacity >= 1 << 20) {
                large.add(capacity);
            }
            return buf;
        }
    }
}
