package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgstitch.protocol.backend.Authentication;
import io.pgstitch.protocol.backend.BackendKeyData;
import io.pgstitch.protocol.backend.CommandComplete;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.NegotiateProtocolVersion;
import io.pgstitch.protocol.backend.NoticeResponse;
import io.pgstitch.protocol.backend.ParameterStatus;
import io.pgstitch.protocol.backend.ReadyForQuery;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a broken or hostile shard may send in the messages the proxy decodes: each arrives through
 * {@link BackendFrameDecoder} exactly as on the wire, and decoding its body must be a FATAL {@code 08P01} that
 * names the message, never an IndexOutOfBoundsException, and must leave the frame's reference count alone.
 */
class HostileBackendMessagesTest {

    private static void assertRefused(String hex, Function<ByteBuf, ?> decoder, String message) {
        EmbeddedChannel channel = new EmbeddedChannel(new BackendFrameDecoder());
        try {
            channel.writeInbound(Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex)));
            Frame frame = channel.readInbound();
            assertThat(frame).as("one whole message: %s", hex).isNotNull();
            assertThat(channel.inboundMessages()).as("nothing after it: %s", hex).isEmpty();
            try {
                assertThatThrownBy(() -> decoder.apply(frame.body())).as(hex)
                        .isInstanceOfSatisfying(PgException.class, e -> {
                            assertThat(e.sqlState()).isEqualTo(SqlState.PROTOCOL_VIOLATION);
                            assertThat(e.isFatal()).isTrue();
                            assertThat(e.getMessage()).isEqualTo("invalid message: " + message);
                        });
                assertThat(frame.refCnt()).as("decode neither kept nor released the frame").isEqualTo(1);
            } finally {
                frame.release();
            }
        } finally {
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void readyForQuery() {
        assertRefused("5a" + "00000005" + "58", ReadyForQuery::decode,
                "ReadyForQuery status 'X' (must be 'I', 'T' or 'E')");
        assertRefused("5a" + "00000005" + "00", ReadyForQuery::decode,
                "ReadyForQuery status 0x00 (must be 'I', 'T' or 'E')");
        assertRefused("5a" + "00000005" + "69", ReadyForQuery::decode,
                "ReadyForQuery status 'i' (must be 'I', 'T' or 'E')");
        assertRefused("5a" + "00000006" + "4949", ReadyForQuery::decode, "ReadyForQuery of length 6 (must be 5)");
        assertRefused("5a" + "00000004", ReadyForQuery::decode, "ReadyForQuery of length 4 (must be 5)");
    }

    @Test
    void parameterStatus() {
        assertRefused("53" + "00000007" + "6100" + "62", ParameterStatus::decode,
                "ParameterStatus value is missing its NUL terminator");
        assertRefused("53" + "00000005" + "61", ParameterStatus::decode,
                "ParameterStatus name is missing its NUL terminator");
        assertRefused("53" + "00000004", ParameterStatus::decode, "ParameterStatus name is missing its NUL terminator");
        assertRefused("53" + "00000009" + "6100" + "6200" + "63", ParameterStatus::decode,
                "ParameterStatus has 1 unexpected trailing bytes");
    }

    @Test
    void errorAndNoticeResponses() {
        // S "ERROR" then no field terminator
        assertRefused("45" + "0000000b" + "53" + "4552524f5200", ErrorResponse::decode,
                "ErrorResponse is missing its terminator");
        // M "oops" without its NUL
        assertRefused("45" + "00000009" + "4d" + "6f6f7073", ErrorResponse::decode,
                "ErrorResponse field 'M' is missing its NUL terminator");
        assertRefused("45" + "00000005" + "01", ErrorResponse::decode,
                "ErrorResponse field 0x01 is missing its NUL terminator");
        assertRefused("45" + "00000004", ErrorResponse::decode, "ErrorResponse is missing its terminator");
        assertRefused("45" + "00000006" + "00" + "00", ErrorResponse::decode,
                "ErrorResponse has 1 unexpected trailing bytes");
        assertRefused("4e" + "0000000c" + "53" + "4e4f5449434500", NoticeResponse::decode,
                "NoticeResponse is missing its terminator");
        assertRefused("4e" + "00000009" + "4d" + "6f6f7073", NoticeResponse::decode,
                "NoticeResponse field 'M' is missing its NUL terminator");
    }

    @Test
    void backendKeyData() {
        assertRefused("4b" + "00000006" + "0000", BackendKeyData::decode, "BackendKeyData is truncated");
        assertRefused("4b" + "0000000a" + "0000002a" + "0102", BackendKeyData::decode,
                "BackendKeyData secret of 2 bytes");
        assertRefused("4b" + "00000109" + "0000002a" + "00".repeat(257), BackendKeyData::decode,
                "BackendKeyData secret of 257 bytes");
    }

    @Test
    void authentication() {
        assertRefused("52" + "00000006" + "0000", Authentication::decode, "Authentication is truncated");
        assertRefused("52" + "00000009" + "00000000" + "00", Authentication::decode,
                "Authentication has 1 unexpected trailing bytes");
        assertRefused("52" + "0000000a" + "00000005" + "0102", Authentication::decode,
                "AuthenticationMD5Password salt has length 4 but only 2 bytes follow");
        // "SCRAM-SHA-256" and its NUL, but not the empty name that ends the list
        assertRefused("52" + "00000016" + "0000000a" + "534352414d2d5348412d32353600", Authentication::decode,
                "AuthenticationSASL mechanism is missing its NUL terminator");
        assertRefused("52" + "0000000a" + "0000000a" + "5343", Authentication::decode,
                "AuthenticationSASL mechanism is missing its NUL terminator");
    }

    @Test
    void commandComplete() {
        assertRefused("43" + "00000008" + "53454c45", CommandComplete::decode,
                "CommandComplete tag is missing its NUL terminator");
        assertRefused("43" + "00000007" + "4100" + "42", CommandComplete::decode,
                "CommandComplete has 1 unexpected trailing bytes");
    }

    @Test
    void negotiateProtocolVersion() {
        assertRefused("76" + "00000006" + "0000", NegotiateProtocolVersion::decode,
                "NegotiateProtocolVersion is truncated");
        assertRefused("76" + "0000000a" + "00000000" + "0000", NegotiateProtocolVersion::decode,
                "NegotiateProtocolVersion option count is truncated");
        assertRefused("76" + "0000000c" + "00000000" + "00000005", NegotiateProtocolVersion::decode,
                "NegotiateProtocolVersion option count 5");
        assertRefused("76" + "0000000e" + "00000000" + "00000001" + "5f70", NegotiateProtocolVersion::decode,
                "NegotiateProtocolVersion option is missing its NUL terminator");
        assertRefused("76" + "0000000e" + "00000000" + "00000000" + "0000", NegotiateProtocolVersion::decode,
                "NegotiateProtocolVersion has 2 unexpected trailing bytes");
    }
}
