package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.pgstitch.protocol.frontend.CancelRequest;
import io.pgstitch.protocol.frontend.Describe;
import io.pgstitch.protocol.frontend.GssEncRequest;
import io.pgstitch.protocol.frontend.Parse;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.protocol.frontend.SslRequest;
import io.pgstitch.protocol.frontend.StartupMessage;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.protocol.frontend.Terminate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FrontendFrameDecoderTest {

    private final FrontendFrameDecoder decoder = new FrontendFrameDecoder();
    private final EmbeddedChannel channel = new EmbeddedChannel(decoder);

    @AfterEach
    void noLeaks() {
        channel.finishAndReleaseAll();
    }

    private static ByteBuf bytes(java.util.function.Consumer<ByteBuf> writer) {
        ByteBuf buf = Unpooled.buffer();
        writer.accept(buf);
        return buf;
    }

    private static ByteBuf startup() {
        return bytes(new StartupMessage(ProtocolVersion.V3_0, Map.of("user", "u", "database", "d"))::encode);
    }

    private void login() {
        channel.writeInbound(startup());
        StartupMessage startup = channel.readInbound();
        assertThat(startup.user()).isEqualTo("u");
        assertThat(decoder.state()).isEqualTo(FrontendFrameDecoder.State.MESSAGES);
    }

    @Test
    void startupArrivingOneByteAtATime() {
        ByteBuf whole = startup();
        while (whole.isReadable()) {
            channel.writeInbound(whole.readRetainedSlice(1));
        }
        whole.release();
        StartupMessage startup = channel.readInbound();
        assertThat(startup.database()).isEqualTo("d");
        assertThat((Object) channel.readInbound()).isNull();
    }

    @Test
    void sslAndGssRequestsThenStartup() {
        channel.writeInbound(bytes(GssEncRequest.INSTANCE::encode));
        assertThat((Object) channel.readInbound()).isSameAs(GssEncRequest.INSTANCE);
        channel.writeInbound(bytes(SslRequest.INSTANCE::encode));
        assertThat((Object) channel.readInbound()).isSameAs(SslRequest.INSTANCE);
        assertThat(decoder.state()).isEqualTo(FrontendFrameDecoder.State.STARTUP);
        login();
    }

    @Test
    void plaintextQueuedBehindAnSslRequestIsVisible() {
        ByteBuf both = bytes(SslRequest.INSTANCE::encode);
        new Query("select 'injected'").encode(both);
        // seen by the handler while the SSLRequest is being handled: the decoder still holds the rest
        channel.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                if (msg == SslRequest.INSTANCE) {
                    assertThat(decoder.hasBufferedInput()).isTrue();
                }
                ctx.fireChannelRead(msg);
            }
        });
        assertThatThrownBy(() -> channel.writeInbound(both)).isInstanceOf(DecoderException.class);
    }

    @Test
    void cancelRequestsOfBothVersions() {
        channel.writeInbound(bytes(new CancelRequest(7, new byte[] {1, 2, 3, 4})::encode));
        CancelRequest short30 = channel.readInbound();
        assertThat(short30.processId()).isEqualTo(7);
        assertThat(short30.secretKey()).hasSize(4);

        FrontendFrameDecoder second = new FrontendFrameDecoder();
        EmbeddedChannel other = new EmbeddedChannel(second);
        other.writeInbound(bytes(new CancelRequest(8, new byte[32])::encode));
        CancelRequest long32 = other.readInbound();
        assertThat(long32.secretKey()).hasSize(32);
        other.finishAndReleaseAll();
    }

    @Test
    void oversizedStartupFailsOnTheLengthAlone() {
        ByteBuf header = Unpooled.buffer().writeInt(10_001);
        assertThatThrownBy(() -> channel.writeInbound(header))
                .hasCauseInstanceOf(PgException.class)
                .hasMessageContaining("startup packet length 10001");
        assertThat(decoder.state()).isEqualTo(FrontendFrameDecoder.State.FAILED);
        // everything afterwards is discarded, nothing emitted
        channel.writeInbound(startup());
        assertThat((Object) channel.readInbound()).isNull();
    }

    @Test
    void tooShortStartupLength() {
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeInt(4).writeInt(0)))
                .hasRootCauseInstanceOf(PgException.class);
    }

    @Test
    void messagesAfterStartupAreFramesManyPerRead() {
        login();
        decoder.authenticated();
        ByteBuf batch = Unpooled.buffer();
        new Query("select 1").encode(batch);
        Sync.INSTANCE.encode(batch);
        Terminate.INSTANCE.encode(batch);
        channel.writeInbound(batch);
        Frame query = channel.readInbound();
        assertThat(query.type()).isEqualTo((byte) 'Q');
        assertThat(Query.decode(query.body()).sql()).isEqualTo("select 1");
        query.release();
        Frame sync = channel.readInbound();
        assertThat(sync.type()).isEqualTo((byte) 'S');
        assertThat(ByteBufUtil.hexDump(sync.content())).isEqualTo("5300000004");
        sync.release();
        Frame terminate = channel.readInbound();
        assertThat(terminate.type()).isEqualTo((byte) 'X');
        terminate.release();
    }

    @Test
    void aMessageSplitAcrossReads() {
        login();
        decoder.authenticated();
        ByteBuf query = bytes(new Query("select 42")::encode);
        channel.writeInbound(query.readRetainedSlice(3));
        assertThat((Object) channel.readInbound()).isNull();
        channel.writeInbound(query.readRetainedSlice(query.readableBytes()));
        query.release();
        Frame frame = channel.readInbound();
        assertThat(frame.bodyLength()).isEqualTo("select 42".length() + 1);
        frame.release();
    }

    @Test
    void consecutiveCopyDataShareOneFrame() {
        login();
        decoder.authenticated();
        ByteBuf copy = Unpooled.buffer();
        for (int i = 0; i < 3; i++) {
            copy.writeByte('d').writeInt(6).writeShort(i);
        }
        copy.writeByte('c').writeInt(4);
        channel.writeInbound(copy);
        Frame data = channel.readInbound();
        assertThat(data.messageCount()).isEqualTo(3);
        assertThat(data.content().readableBytes()).isEqualTo(21);
        data.release();
        Frame done = channel.readInbound();
        assertThat(done.type()).isEqualTo((byte) 'c');
        done.release();
    }

    @Test
    void unknownTypeIsAViolation() {
        login();
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeByte('!').writeInt(4)))
                .hasRootCauseInstanceOf(PgException.class)
                .hasMessageContaining("unknown frontend message type '!'");
    }

    @Test
    void beforeAuthenticationEvenAQueryIsSmall() {
        login();
        ByteBuf header = Unpooled.buffer().writeByte('Q').writeInt(70_000);
        assertThatThrownBy(() -> channel.writeInbound(header)).hasMessageContaining("QUERY message of length 70000");
    }

    @Test
    void afterAuthenticationLimitsFollowPostgres() {
        login();
        decoder.authenticated();
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeByte('S').writeInt(5)))
                .hasMessageContaining("SYNC message of length 5");
    }

    @Test
    void smallMessageTypeLimitIsCheckedOnTheHeader() {
        login();
        decoder.authenticated();
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeByte('E').writeInt(10_001)))
                .hasMessageContaining("EXECUTE message of length 10001");
    }

    @Test
    void negativeLength() {
        login();
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.buffer().writeByte('Q').writeInt(-1)))
                .hasRootCauseInstanceOf(PgException.class);
    }

    /** What a read emitted, as the hex of each frame's bytes, releasing the frames. */
    private java.util.List<String> framesRead() {
        java.util.List<String> frames = new java.util.ArrayList<>();
        for (Frame frame = channel.readInbound(); frame != null; frame = channel.readInbound()) {
            frames.add(ByteBufUtil.hexDump(frame.content()) + " x" + frame.messageCount());
            frame.release();
        }
        return frames;
    }

    @Test
    void consecutiveDescribesAreTwoFrames() {
        // 'D' from a client is Describe, not DataRow: each is a request owed its own answer
        login();
        decoder.authenticated();
        ByteBuf batch = Unpooled.buffer();
        new Parse("s", "select 1", new int[0]).encode(batch);
        new Describe(Describe.Target.STATEMENT, "s").encode(batch);
        new Describe(Describe.Target.STATEMENT, "s").encode(batch);
        Sync.INSTANCE.encode(batch);
        channel.writeInbound(batch);
        assertThat(framesRead()).containsExactly(
                "50" + "00000011" + "7300" + "73656c656374203100" + "0000" + " x1",
                "44" + "00000007" + "53" + "7300" + " x1",
                "44" + "00000007" + "53" + "7300" + " x1",
                "53" + "00000004" + " x1");
    }

    @Test
    void noOtherClientMessageIsCoalesced() {
        login();
        decoder.authenticated();
        ByteBuf batch = Unpooled.buffer();
        for (int i = 0; i < 2; i++) {
            batch.writeByte('E').writeInt(9).writeByte(0).writeInt(0); // Execute unnamed portal, no row limit
        }
        for (int i = 0; i < 2; i++) {
            batch.writeByte('H').writeInt(4); // Flush
        }
        for (int i = 0; i < 2; i++) {
            batch.writeByte('d').writeInt(5).writeByte(i); // CopyData
        }
        channel.writeInbound(batch);
        assertThat(framesRead()).containsExactly("4500000009" + "00" + "00000000" + " x1",
                "4500000009" + "00" + "00000000" + " x1", "4800000004 x1", "4800000004 x1",
                "640000000500" + "640000000501" + " x2");
    }

    @Test
    void aDuplicateStartupParameterIsRefusedByName() {
        ByteBuf packet = Unpooled.buffer();
        byte[] parameters = "user\0alice\0database\0d\0user\0postgres\0\0"
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        packet.writeInt(8 + parameters.length).writeInt(ProtocolVersion.V3_0).writeBytes(parameters);
        assertThatThrownBy(() -> channel.writeInbound(packet)).hasRootCauseInstanceOf(PgException.class)
                .rootCause().isInstanceOfSatisfying(PgException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("08P01");
                    assertThat(e.isFatal()).isTrue();
                    assertThat(e.getMessage()).isEqualTo(
                            "invalid message: startup parameter \"user\" appears more than once");
                });
        assertThat(decoder.state()).isEqualTo(FrontendFrameDecoder.State.FAILED);
        assertThat((Object) channel.readInbound()).isNull();
    }
}
