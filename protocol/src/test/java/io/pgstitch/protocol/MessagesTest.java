package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgstitch.protocol.backend.Authentication;
import io.pgstitch.protocol.backend.AuthenticationCleartextPassword;
import io.pgstitch.protocol.backend.AuthenticationMd5Password;
import io.pgstitch.protocol.backend.AuthenticationOk;
import io.pgstitch.protocol.backend.AuthenticationSasl;
import io.pgstitch.protocol.backend.AuthenticationSaslContinue;
import io.pgstitch.protocol.backend.AuthenticationSaslFinal;
import io.pgstitch.protocol.backend.AuthenticationUnsupported;
import io.pgstitch.protocol.backend.BackendKeyData;
import io.pgstitch.protocol.backend.BackendMessage;
import io.pgstitch.protocol.backend.CommandComplete;
import io.pgstitch.protocol.backend.EmptyQueryResponse;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.NegotiateProtocolVersion;
import io.pgstitch.protocol.backend.NoticeResponse;
import io.pgstitch.protocol.backend.ParameterStatus;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.frontend.CancelRequest;
import io.pgstitch.protocol.frontend.FrontendMessage;
import io.pgstitch.protocol.frontend.GssEncRequest;
import io.pgstitch.protocol.frontend.PasswordMessage;
import io.pgstitch.protocol.frontend.Bind;
import io.pgstitch.protocol.frontend.Close;
import io.pgstitch.protocol.frontend.Describe;
import io.pgstitch.protocol.frontend.Execute;
import io.pgstitch.protocol.frontend.Parse;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.protocol.frontend.SaslInitialResponse;
import io.pgstitch.protocol.frontend.SaslResponse;
import io.pgstitch.protocol.frontend.SslRequest;
import io.pgstitch.protocol.frontend.StartupMessage;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.protocol.frontend.Terminate;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Byte-exact encodings of every modelled message, written at a non-zero writer index to prove the length
 * back-patching, and decoded back from the body.
 */
class MessagesTest {

    private static final String JUNK = "cafe";

    /** Encodes after two junk bytes and returns the hex of what the message wrote. */
    private static String encode(Consumer<ByteBuf> encoder) {
        ByteBuf out = Unpooled.buffer();
        try {
            out.writeBytes(ByteBufUtil.decodeHexDump(JUNK));
            encoder.accept(out);
            String hex = ByteBufUtil.hexDump(out);
            assertThat(hex).startsWith(JUNK);
            return hex.substring(JUNK.length());
        } finally {
            out.release();
        }
    }

    private static String encode(FrontendMessage message) {
        return encode(message::encode);
    }

    private static String encode(BackendMessage message) {
        return encode(message::encode);
    }

    private static String hex(String text) {
        return ByteBufUtil.hexDump(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Decodes the body (after type and length) of {@code hex} with {@code decoder}. */
    private static <T> T decodeBody(String hex, int headerLength, Function<ByteBuf, T> decoder) {
        ByteBuf buf = Unpooled.wrappedBuffer(ByteBufUtil.decodeHexDump(hex));
        try {
            buf.skipBytes(headerLength);
            T message = decoder.apply(buf);
            assertThat(buf.isReadable()).as("decoder consumed the whole body").isFalse();
            return message;
        } finally {
            buf.release();
        }
    }

    @Test
    void startupMessage() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", "u");
        parameters.put("database", "d");
        StartupMessage startup = new StartupMessage(ProtocolVersion.V3_0, parameters);
        String expected = "0000001b" + "00030000" + hex("user") + "00" + hex("u") + "00" + hex("database") + "00"
                + hex("d") + "00" + "00";
        assertThat(encode(startup)).isEqualTo(expected);
        StartupMessage decoded = decodeBody(expected, 4, StartupMessage::decode);
        assertThat(decoded).isEqualTo(startup);
        assertThat(decoded.database()).isEqualTo("d");
        assertThat(decoded.majorVersion()).isEqualTo(3);
    }

    @Test
    void startupMessageDatabaseDefaultsToUserAndOptionsAreListed() {
        StartupMessage startup = new StartupMessage(ProtocolVersion.V3_2,
                Map.of("user", "alice", "_pq_.compression", "on"));
        assertThat(startup.database()).isEqualTo("alice");
        assertThat(startup.protocolOptions()).containsExactly("_pq_.compression");
        assertThat(startup.minorVersion()).isEqualTo(2);
    }

    @Test
    void startupMessageMustEndAtItsTerminator() {
        // user\0u\0 then a name without value and no terminator
        String packet = "00030000" + hex("user") + "00" + hex("u") + "00" + hex("database") + "00";
        assertThatThrownBy(() -> decodeBody(packet, 0, StartupMessage::decode))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
        String trailing = "00030000" + hex("user") + "00" + hex("u") + "00" + "00" + "41";
        assertThatThrownBy(() -> decodeBody(trailing, 0, StartupMessage::decode))
                .hasMessageContaining("trailing");
    }

    @Test
    void requestsWithoutTypeByte() {
        assertThat(encode(SslRequest.INSTANCE)).isEqualTo("0000000804d2162f");
        assertThat(encode(GssEncRequest.INSTANCE)).isEqualTo("0000000804d21630");
        CancelRequest cancel = new CancelRequest(0x01020304, new byte[] {9, 8, 7, 6});
        assertThat(encode(cancel)).isEqualTo("0000001004d2162e0102030409080706");
        assertThat(decodeBody("0102030409080706", 0, CancelRequest::decode)).isEqualTo(cancel);
        byte[] longKey = new byte[32];
        longKey[31] = 1;
        assertThat(decodeBody("00000001" + ByteBufUtil.hexDump(longKey), 0, CancelRequest::decode).secretKey())
                .isEqualTo(longKey);
    }

    @Test
    void cancelRequestSecretLengthIsBounded() {
        assertThatThrownBy(() -> decodeBody("00000001" + "0102", 0, CancelRequest::decode))
                .isInstanceOf(PgException.class);
        String tooLong = "00000001" + "00".repeat(257);
        assertThatThrownBy(() -> decodeBody(tooLong, 0, CancelRequest::decode)).isInstanceOf(PgException.class);
    }

    @Test
    void typedFrontendMessages() {
        assertThat(encode(new Query("select 1"))).isEqualTo("51" + "0000000d" + hex("select 1") + "00");
        assertThat(decodeBody("51" + "0000000d" + hex("select 1") + "00", 5, Query::decode).sql())
                .isEqualTo("select 1");
        assertThat(encode(Sync.INSTANCE)).isEqualTo("5300000004");
        assertThat(encode(Terminate.INSTANCE)).isEqualTo("5800000004");
        assertThat(encode(new PasswordMessage("pw"))).isEqualTo("70" + "00000007" + hex("pw") + "00");
        assertThat(encode(new SaslInitialResponse("SCRAM-SHA-256", new byte[] {1, 2})))
                .isEqualTo("70" + "00000018" + hex("SCRAM-SHA-256") + "00" + "00000002" + "0102");
        assertThat(encode(new SaslInitialResponse("X", null))).isEqualTo("70" + "0000000a" + hex("X") + "00ffffffff");
        assertThat(decodeBody("70" + "0000000a" + hex("X") + "00ffffffff", 5, SaslInitialResponse::decode).data())
                .isNull();
        assertThat(encode(new SaslResponse(new byte[] {5}))).isEqualTo("700000000505");
    }

    @Test
    void extendedProtocolMessages() {
        Parse parse = new Parse("S_1", "select $1", new int[] {23});
        String parseHex = "50" + "00000018" + hex("S_1") + "00" + hex("select $1") + "00" + "0001" + "00000017";
        assertThat(encode(parse)).isEqualTo(parseHex);
        assertThat(decodeBody(parseHex, 5, Parse::decode)).isEqualTo(parse);
        assertThat(decodeBody("42" + "0000000a" + hex("P") + "00" + hex("S_1") + "00", 5,
                Bind::decodeNames)).isEqualTo(new Bind("P", "S_1"));
        Describe describe = new Describe(Describe.Target.STATEMENT, "S_1");
        assertThat(encode(describe)).isEqualTo("44" + "00000009" + "53" + hex("S_1") + "00");
        assertThat(decodeBody(encode(describe), 5, Describe::decode)).isEqualTo(describe);
        Close close = new Close(Describe.Target.PORTAL, "");
        assertThat(encode(close)).isEqualTo("43" + "00000006" + "50" + "00");
        assertThat(decodeBody(encode(close), 5, Close::decode)).isEqualTo(close);
        Execute execute = new Execute("", 10);
        assertThat(encode(execute)).isEqualTo("45" + "00000009" + "00" + "0000000a");
        assertThat(decodeBody(encode(execute), 5, Execute::decode)).isEqualTo(execute);
    }

    @Test
    void extendedProtocolMessagesRefuseBadLayouts() {
        // 65535 declared parameter types in a body that holds none: refused before the array is allocated
        String hugeCount = hex("S") + "00" + hex("q") + "00" + "ffff";
        assertThatThrownBy(() -> decodeBody(hugeCount, 0, Parse::decode))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.getMessage()).contains("65535"));
        assertThatThrownBy(() -> decodeBody("58" + "00", 0, Describe::decode))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.getMessage()).contains("neither S nor P"));
        assertThatThrownBy(() -> decodeBody("00", 0, Execute::decode)).isInstanceOf(PgException.class);
        assertThatThrownBy(() -> decodeBody(hex("P"), 0, Bind::decodeNames)).isInstanceOf(PgException.class);
    }

    @Test
    void saslInitialResponseRefusesALengthPastTheBody() {
        String body = hex("X") + "00" + "7fffffff" + "01";
        assertThatThrownBy(() -> decodeBody(body, 0, SaslInitialResponse::decode))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.getMessage()).contains("length"));
    }

    @Test
    void authenticationFamily() {
        assertThat(encode(AuthenticationOk.INSTANCE)).isEqualTo("520000000800000000");
        assertThat(encode(AuthenticationCleartextPassword.INSTANCE)).isEqualTo("520000000800000003");
        assertThat(encode(new AuthenticationMd5Password(new byte[] {1, 2, 3, 4})))
                .isEqualTo("520000000c0000000501020304");
        String sasl = "52" + "00000017" + "0000000a" + hex("SCRAM-SHA-256") + "00" + "00";
        assertThat(encode(new AuthenticationSasl(List.of("SCRAM-SHA-256")))).isEqualTo(sasl);
        assertThat(decodeBody(sasl, 5, Authentication::decode)).isEqualTo(new AuthenticationSasl(List.of("SCRAM-SHA-256")));
        assertThat(encode(new AuthenticationSaslContinue(new byte[] {7}))).isEqualTo("52000000090000000b07");
        assertThat(encode(new AuthenticationSaslFinal(new byte[] {7}))).isEqualTo("52000000090000000c07");
        assertThat(decodeBody("520000000800000000", 5, Authentication::decode)).isSameAs(AuthenticationOk.INSTANCE);
        assertThat(decodeBody("5200000008" + "00000007", 5, Authentication::decode))
                .isEqualTo(new AuthenticationUnsupported(7));
        assertThat(((AuthenticationMd5Password) decodeBody("520000000c0000000501020304", 5, Authentication::decode))
                .salt()).containsExactly(1, 2, 3, 4);
    }

    @Test
    void backendMessages() {
        assertThat(encode(new ParameterStatus("a", "b"))).isEqualTo("53" + "00000008" + "6100" + "6200");
        assertThat(decodeBody("53" + "00000008" + "6100" + "6200", 5, ParameterStatus::decode))
                .isEqualTo(new ParameterStatus("a", "b"));
        BackendKeyData key = new BackendKeyData(42, new byte[] {1, 2, 3, 4});
        assertThat(encode(key)).isEqualTo("4b" + "0000000c" + "0000002a" + "01020304");
        assertThat(decodeBody("4b0000000c0000002a01020304", 5, BackendKeyData::decode)).isEqualTo(key);
        assertThat(encode(ReadyForQuery.IN_TRANSACTION)).isEqualTo("5a0000000554");
        assertThat(decodeBody("5a0000000545", 5, ReadyForQuery::decode)).isSameAs(ReadyForQuery.FAILED);
        assertThat(encode(new CommandComplete("SELECT 1"))).isEqualTo("43" + "0000000d" + hex("SELECT 1") + "00");
        assertThat(encode(EmptyQueryResponse.INSTANCE)).isEqualTo("4900000004");
        NegotiateProtocolVersion negotiate = new NegotiateProtocolVersion(2, List.of("_pq_.a"));
        String expected = "76" + "00000013" + "00000002" + "00000001" + hex("_pq_.a") + "00";
        assertThat(encode(negotiate)).isEqualTo(expected);
        assertThat(decodeBody(expected, 5, NegotiateProtocolVersion::decode)).isEqualTo(negotiate);
    }

    @Test
    void negotiateProtocolVersionRefusesAnAbsurdOptionCount() {
        assertThatThrownBy(() -> decodeBody("00000002" + "7fffffff", 0, NegotiateProtocolVersion::decode))
                .isInstanceOf(PgException.class);
    }

    @Test
    void readyForQueryRefusesUnknownStatus() {
        assertThatThrownBy(() -> decodeBody("5a0000000558", 5, ReadyForQuery::decode))
                .isInstanceOf(PgException.class);
    }

    @Test
    void errorAndNoticeResponses() {
        PgException error = PgException.fatal("3D000", "database \"x\" is not routed").withHint("Add a route.");
        String body = "53" + hex("FATAL") + "00" + "56" + hex("FATAL") + "00" + "43" + hex("3D000") + "00" + "4d"
                + hex("database \"x\" is not routed") + "00" + "48" + hex("Add a route.") + "00" + "00";
        String expected = "45" + String.format("%08x", 4 + body.length() / 2) + body;
        assertThat(encode(error.toErrorResponse())).isEqualTo(expected);
        ErrorResponse decoded = decodeBody(expected, 5, ErrorResponse::decode);
        assertThat(decoded.sqlState()).isEqualTo("3D000");
        assertThat(decoded.hint()).isEqualTo("Add a route.");
        assertThat(decoded.isFatal()).isTrue();
        PgException relayed = PgException.of(decoded);
        assertThat(relayed.isFatal()).isTrue();
        assertThat(relayed.toErrorResponse()).isSameAs(decoded);

        NoticeResponse notice = new NoticeResponse(Map.of('S', "NOTICE", 'M', "hi"));
        String noticeHex = encode(notice);
        assertThat(noticeHex).startsWith("4e");
        assertThat(decodeBody(noticeHex, 5, NoticeResponse::decode).message()).isEqualTo("hi");
    }

    @Test
    void anErrorResponseWithoutTerminatorIsAViolation() {
        assertThatThrownBy(() -> decodeBody("53" + hex("ERROR") + "00", 0, ErrorResponse::decode))
                .isInstanceOfSatisfying(PgException.class, e -> assertThat(e.sqlState()).isEqualTo("08P01"));
        assertThatThrownBy(() -> decodeBody("53" + hex("ERROR"), 0, ErrorResponse::decode))
                .isInstanceOf(PgException.class);
    }

    @Test
    void invalidUtf8BecomesAReplacementCharacter() {
        String body = "00030000" + hex("user") + "00" + "c328" + "00" + "00";
        assertThat(decodeBody(body, 0, StartupMessage::decode).user()).contains("\uFFFD");
    }
}
