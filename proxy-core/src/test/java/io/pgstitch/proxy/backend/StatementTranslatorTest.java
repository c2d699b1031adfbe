package io.pgstitch.proxy.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.pgstitch.protocol.Frame;
import io.pgstitch.proxy.pool.BackendStatements;
import io.pgstitch.proxy.pool.PreparedStatements;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The translator against the bytes a client sends and PostgreSQL answers. Every message sent is compared, byte for
 * byte, with one built here; every answer is checked for whether it reaches the client, is swallowed or replaced.
 */
class StatementTranslatorTest {

    private static final String SELECT_1 = "select 1";
    private static final String SELECT_2 = "select 2";
    private static final String SELECT_3 = "select 3";

    private final PreparedStatements client = new PreparedStatements();
    private final BackendStatements backend = BackendStatements.withCapacity(100);
    private final StatementTranslator translator = new StatementTranslator(client, backend,
            PooledByteBufAllocator.DEFAULT);
    /** Everything this test built, to check that each was released by whoever took it. */
    private final List<ByteBuf> built = new ArrayList<>();

    @AfterEach
    void everyBufferWasReleased() {
        assertThat(built).allSatisfy(buf -> assertThat(buf.refCnt()).as("a buffer the test built").isZero());
    }

    @Test
    void aNamedParseGoesUnderItsBackendNameAndItsParseCompleteReachesTheClient() {
        assertThat(send(translator, parse("s1", SELECT_1), sync())).containsExactly(
                shown(parse(backendName(SELECT_1), SELECT_1)), shown(sync()));
        assertThat(client.get("s1").serverName()).isEqualTo(backendName(SELECT_1)).startsWith("pgstitch_");
        assertThat(backend.has(client.get("s1"))).isTrue();

        assertThat(answers(translator, "1Z")).isEqualTo("1Z");
    }

    @Test
    void theUnnamedStatementIsNotTranslated() {
        ByteBuf parse = parse("", SELECT_1);
        List<ByteBuf> out = translator.outgoing(new Frame(parse));
        assertThat(out).singleElement().isSameAs(parse);
        out.forEach(ByteBuf::release);
        ByteBuf bind = bind("", "");
        out = translator.outgoing(new Frame(bind));
        assertThat(out).singleElement().isSameAs(bind);
        out.forEach(ByteBuf::release);
        assertThat(backend.size()).isZero();
        assertThat(answers(translator, "12")).isEqualTo("12");
    }

    @Test
    void twoDefinitionsGetTwoBackendNamesAndOneDefinitionUnderTwoClientNamesOne() {
        send(translator, parse("a", SELECT_1), parse("b", SELECT_2), parse("c", SELECT_1));
        assertThat(client.get("a").serverName()).isNotEqualTo(client.get("b").serverName())
                .isEqualTo(client.get("c").serverName());
    }

    @Test
    void aBindOfAStatementTheBackendLacksIsPrecededByAParseWhoseAnswerIsSwallowed() {
        defineElsewhere("s1", SELECT_1);

        assertThat(send(translator, bind("p", "s1"), sync())).containsExactly(
                shown(parse(backendName(SELECT_1), SELECT_1)), shown(bind("p", backendName(SELECT_1))), shown(sync()));
        assertThat(answers(translator, "12Z")).as("the added Parse's ParseComplete is swallowed").isEqualTo("2Z");
        assertThat(backend.has(client.get("s1"))).isTrue();
    }

    @Test
    void aBindOfAStatementTheBackendHasIsOnlyRenamedItsParametersIntact() {
        send(translator, parse("s1", SELECT_1), sync());
        answers(translator, "1Z");

        ByteBuf bind = track(Unpooled.buffer());
        message(bind, 'B', "portal\0s1\0", new byte[] {0, 1, 0, 1, 0, 1, 0, 0, 0, 3, 'a', 'b', 'c', 0, 0});
        ByteBuf expected = track(Unpooled.buffer());
        message(expected, 'B', "portal\0" + backendName(SELECT_1) + "\0",
                new byte[] {0, 1, 0, 1, 0, 1, 0, 0, 0, 3, 'a', 'b', 'c', 0, 0});

        assertThat(send(translator, bind, sync())).containsExactly(shown(expected), shown(sync()));
        assertThat(answers(translator, "2Z")).isEqualTo("2Z");
    }

    @Test
    void aBindOfAStatementTheClientNeverDefinedPassesForTheServerToRefuse() {
        ByteBuf bind = bind("", "nope");
        List<ByteBuf> out = translator.outgoing(new Frame(bind));
        assertThat(out).singleElement().isSameAs(bind);
        out.forEach(ByteBuf::release);
        assertThat(answers(translator, "E")).isEqualTo("E");
    }

    @Test
    void aDescribeOfAStatementTheBackendLacksIsPrecededByAParseAndADescribeOfAPortalPasses() {
        defineElsewhere("s1", SELECT_1);

        assertThat(send(translator, describe('S', "s1"))).containsExactly(
                shown(parse(backendName(SELECT_1), SELECT_1)), shown(describe('S', backendName(SELECT_1))));
        ByteBuf portal = describe('P', "s1");
        List<ByteBuf> out = translator.outgoing(new Frame(portal));
        assertThat(out).singleElement().isSameAs(portal);
        out.forEach(ByteBuf::release);
        assertThat(answers(translator, "1")).as("the added Parse's").isEmpty();
    }

    @Test
    void aCloseOfAStatementClosesNothingOnTheBackend() {
        send(translator, parse("s1", SELECT_1), sync());
        answers(translator, "1Z");

        assertThat(send(translator, close('S', "s1"), sync())).containsExactly(
                shown(close('S', PreparedStatements.ABSENT)), shown(sync()));
        assertThat(client.get("s1")).as("the client's name is free again").isNull();
        assertThat(backend.size()).as("other clients keep the statement").isEqualTo(1);
        assertThat(answers(translator, "3Z")).isEqualTo("3Z");
    }

    @Test
    void aCloseOfAPortalOrOfTheUnnamedStatementPasses() {
        ByteBuf portal = close('P', "p");
        ByteBuf unnamed = close('S', "");
        for (ByteBuf message : List.of(portal, unnamed)) {
            List<ByteBuf> out = translator.outgoing(new Frame(message));
            assertThat(out).singleElement().isSameAs(message);
            out.forEach(ByteBuf::release);
        }
        assertThat(answers(translator, "33")).isEqualTo("33");
    }

    @Test
    void aParseOfAStatementTheBackendHasIsACloseOfNothingAnsweredAsAParse() {
        send(translator, parse("s1", SELECT_1), sync());
        answers(translator, "1Z");

        assertThat(send(translator, parse("s2", SELECT_1), sync())).containsExactly(
                shown(close('S', PreparedStatements.ABSENT)), shown(sync()));
        assertThat(client.get("s2").serverName()).isEqualTo(backendName(SELECT_1));

        Frame closeComplete = answer('3');
        Frame reply = translator.incoming(closeComplete);
        assertThat(closeComplete.refCnt()).as("the CloseComplete is replaced").isZero();
        assertThat(reply).isNotSameAs(closeComplete);
        assertThat(ByteBufUtil.getBytes(reply.content())).containsExactly('1', 0, 0, 0, 4);
        reply.release();
        assertThat(answers(translator, "Z")).isEqualTo("Z");
    }

    @Test
    void afterAnErrorTheSkippedParsesAreForgottenByTheBackendAndTheClient() {
        defineElsewhere("s1", SELECT_1);

        // the added Parse of s1 fails (the table went away); the backend skips the client's Parse of s2
        assertThat(send(translator, bind("", "s1"), execute(), parse("s2", SELECT_2), sync())).hasSize(5);
        assertThat(answers(translator, "EZ")).isEqualTo("EZ");

        assertThat(backend.size()).as("neither statement was made on the backend").isZero();
        assertThat(client.get("s1")).as("the client still has the statement it defined earlier").isNotNull();
        assertThat(client.get("s2")).as("as in PostgreSQL, the skipped Parse defined nothing").isNull();

        assertThat(send(translator, bind("", "s1"))).as("prepared again").containsExactly(
                shown(parse(backendName(SELECT_1), SELECT_1)), shown(bind("", backendName(SELECT_1))));
        assertThat(answers(translator, "12")).isEqualTo("2");
    }

    @Test
    void anErrorAfterTheParsesWereAnsweredForgetsNothing() {
        send(translator, parse("s1", SELECT_1), bind("", "s1"), execute(), sync());
        assertThat(answers(translator, "12EZ")).isEqualTo("12EZ");
        assertThat(client.get("s1")).isNotNull();
        assertThat(backend.has(client.get("s1"))).isTrue();
    }

    @Test
    void theLeastRecentlyUsedStatementIsClosedWhenTheBackendIsFull() {
        BackendStatements small = BackendStatements.withCapacity(2);
        StatementTranslator translator = new StatementTranslator(client, small, PooledByteBufAllocator.DEFAULT);
        send(translator, parse("s1", SELECT_1), parse("s2", SELECT_2), sync());
        assertThat(answers(translator, "11Z")).isEqualTo("11Z");

        assertThat(send(translator, parse("s3", SELECT_3), sync())).containsExactly(
                shown(close('S', backendName(SELECT_1))), shown(parse(backendName(SELECT_3), SELECT_3)), shown(sync()));
        assertThat(answers(translator, "31Z")).as("the eviction's CloseComplete is swallowed").isEqualTo("1Z");
        assertThat(small.holdsName(backendName(SELECT_1))).isFalse();
        assertThat(small.size()).isEqualTo(2);
        assertThat(client.get("s1")).as("the client keeps its statement").isNotNull();

        assertThat(send(translator, bind("", "s1"), sync())).as("s2 is now the least recently used").containsExactly(
                shown(close('S', backendName(SELECT_2))), shown(parse(backendName(SELECT_1), SELECT_1)),
                shown(bind("", backendName(SELECT_1))), shown(sync()));
        assertThat(answers(translator, "312Z")).isEqualTo("2Z");
    }

    @Test
    void aStatementUsedRecentlyIsNotTheOneEvicted() {
        BackendStatements small = BackendStatements.withCapacity(2);
        StatementTranslator translator = new StatementTranslator(client, small, PooledByteBufAllocator.DEFAULT);
        send(translator, parse("s1", SELECT_1), parse("s2", SELECT_2), bind("", "s1"), sync());
        answers(translator, "112Z");

        assertThat(send(translator, parse("s3", SELECT_3))).containsExactly(
                shown(close('S', backendName(SELECT_2))), shown(parse(backendName(SELECT_3), SELECT_3)));
        assertThat(answers(translator, "31")).isEqualTo("1");
    }





    @Test
    void anEvictionSkippedByAnErrorLeavesTheStatementOnTheBackend() {
        BackendStatements small = BackendStatements.withCapacity(2);
        StatementTranslator translator = new StatementTranslator(client, small, PooledByteBufAllocator.DEFAULT);
        send(translator, parse("s1", SELECT_1), parse("s2", SELECT_2), sync());
        answers(translator, "11Z");

        // the Execute fails: the backend skips the Close of s1 that makes room for s3, and the Parse of s3
        send(translator, bind("", "s2"), execute(), parse("s3", SELECT_3), sync());
        assertThat(answers(translator, "2EZ")).isEqualTo("2EZ");
        assertThat(client.get("s3")).isNull();

        // s1 is still on the backend: parsing it again under its name would fail with 42P05
        assertThat(send(translator, bind("", "s1"), sync())).containsExactly(
                shown(close('S', backendName(SELECT_1))), shown(parse(backendName(SELECT_1), SELECT_1)),
                shown(bind("", backendName(SELECT_1))), shown(sync()));
        assertThat(answers(translator, "312Z")).isEqualTo("2Z");
    }
    @Test
    void aQueryDiscardedAfterAnErrorLeavesTheAnswersInStep() {
        defineElsewhere("s1", SELECT_1);
        // the Bind fails; PostgreSQL discards the Query too and answers the Sync only
        send(translator, bind("", "missing"), query(SELECT_1), sync());
        assertThat(answers(translator, "EZ")).isEqualTo("EZ");

        send(translator, bind("", "s1"), sync());
        assertThat(answers(translator, "12Z")).as("the added Parse's answer is still swallowed").isEqualTo("2Z");
    }
    @Test
    void theErrorOfAQueryInsideABatchSkipsNothing() {
        send(translator, parse("s1", SELECT_1), query("select nope"), parse("s2", SELECT_2), sync());
        assertThat(answers(translator, "1EZ1Z")).isEqualTo("1EZ1Z");
        assertThat(client.get("s2")).isNotNull();
        assertThat(backend.has(client.get("s2"))).isTrue();
    }
    @Test
    void aParseSentAfterTheErrorWasReadIsSkippedToo() {
        send(translator, parse("s1", "select nope"));
        assertThat(answers(translator, "E")).isEqualTo("E");
        // the client reads the error and only then sends the rest of its batch: the backend skips it all
        send(translator, parse("s2", SELECT_2), sync());
        assertThat(answers(translator, "Z")).isEqualTo("Z");
        assertThat(client.get("s1")).isNull();
        assertThat(client.get("s2")).isNull();
        assertThat(backend.size()).isZero();

        assertThat(send(translator, parse("s2", SELECT_2), sync())).containsExactly(
                shown(parse(backendName(SELECT_2), SELECT_2)), shown(sync()));
        assertThat(answers(translator, "1Z")).isEqualTo("1Z");
    }
    @Test
    void forgetAllEmptiesTheClientAndTheBackend() {
        send(translator, parse("s1", SELECT_1), sync());
        answers(translator, "1Z");
        translator.forgetAll();
        assertThat(client.get("s1")).isNull();
        assertThat(backend.size()).isZero();
    }

    /** Defines {@code name} as if on another backend, so that this one lacks it. */
    private void defineElsewhere(String name, String sql) {
        StatementTranslator other = new StatementTranslator(client, BackendStatements.withCapacity(100),
                PooledByteBufAllocator.DEFAULT);
        send(other, parse(name, sql), sync());
        answers(other, "1Z");
    }

    /** The messages sent for {@code messages}, each shown by {@link #show} and released. */
    private List<String> send(StatementTranslator translator, ByteBuf... messages) {
        List<String> sent = new ArrayList<>();
        for (ByteBuf message : messages) {
            for (ByteBuf out : translator.outgoing(new Frame(message))) {
                sent.add(show(out));
                out.release();
            }
        }
        return sent;
    }

    /** Feeds one answer per character of {@code types}; returns the types of what reaches the client. */
    private String answers(StatementTranslator translator, String types) {
        StringBuilder reached = new StringBuilder();
        for (char type : types.toCharArray()) {
            Frame frame = answer(type);
            Frame reply = translator.incoming(frame);
            if (reply == null) {
                assertThat(frame.refCnt()).as("a swallowed answer stays the caller's").isEqualTo(1);
                frame.release();
            } else {
                reached.append((char) reply.type());
                reply.release();
            }
        }
        return reached.toString();
    }

    private Frame answer(char type) {
        ByteBuf buf = track(Unpooled.buffer());
        switch (type) {
            case 'E' -> message(buf, 'E', "SERROR\0C26000\0Mprepared statement does not exist\0\0", new byte[0]);
            case 'Z' -> message(buf, 'Z', "I", new byte[0]);
            default -> message(buf, type, "", new byte[0]);
        }
        return new Frame(buf);
    }

    /** A message as text: the type, then the body with each NUL as '|' and other unprintable bytes in hex. */
    private static String show(ByteBuf message) {
        int start = message.readerIndex();
        assertThat(message.getInt(start + 1)).as("the length field").isEqualTo(message.readableBytes() - 1);
        StringBuilder text = new StringBuilder().append((char) message.getByte(start)).append(' ');
        for (int i = start + 5; i < message.writerIndex(); i++) {
            byte b = message.getByte(i);
            if (b == 0) {
                text.append('|');
            } else if (b >= 0x20 && b < 0x7f) {
                text.append((char) b);
            } else {
                text.append(String.format("\\x%02x", b & 0xff));
            }
        }
        return text.toString();
    }

    /** Shows a message built only for comparison, and releases it. */
    private static String shown(ByteBuf message) {
        try {
            return show(message);
        } finally {
            message.release();
        }
    }

    /** {@code pgstitch_} and the FNV-1a hash of a Parse body after its name (no parameter types). */
    private static String backendName(String sql) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : (sql + "\0\0\0").getBytes(StandardCharsets.ISO_8859_1)) {
            hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
        }
        return "pgstitch_" + Long.toHexString(hash);
    }

    private ByteBuf parse(String name, String sql) {
        return build('P', name + "\0" + sql + "\0", new byte[] {0, 0});
    }

    private ByteBuf bind(String portal, String statement) {
        return build('B', portal + "\0" + statement + "\0", new byte[] {0, 0, 0, 0, 0, 0});
    }

    private ByteBuf describe(char kind, String name) {
        return build('D', kind + name + "\0", new byte[0]);
    }

    private ByteBuf close(char kind, String name) {
        return build('C', kind + name + "\0", new byte[0]);
    }

    private ByteBuf execute() {
        return build('E', "\0", new byte[] {0, 0, 0, 0});
    }

    private ByteBuf query(String sql) {
        return build('Q', sql + "\0", new byte[0]);
    }

    private ByteBuf sync() {
        return build('S', "", new byte[0]);
    }

    /** A new message at a non-zero reader index, as a slice of a decoder's buffer would be. */
    private ByteBuf build(char type, String text, byte[] tail) {
        ByteBuf buf = track(Unpooled.buffer());
        buf.writeBytes(new byte[] {9, 9, 9});
        buf.readerIndex(3);
        return message(buf, type, text, tail);
    }

    private ByteBuf track(ByteBuf buf) {
        built.add(buf);
        return buf;
    }

    private static ByteBuf message(ByteBuf buf, char type, String text, byte[] tail) {
        byte[] body = text.getBytes(StandardCharsets.ISO_8859_1);
        return buf.writeByte(type).writeInt(4 + body.length + tail.length).writeBytes(body).writeBytes(tail);
    }
}
