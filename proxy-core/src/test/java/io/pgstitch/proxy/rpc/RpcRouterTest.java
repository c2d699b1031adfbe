package io.pgstitch.proxy.rpc;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.pgstitch.conf.RpcConfig;
import io.pgstitch.conf.RpcInTransaction;
import io.pgstitch.conf.RpcSplit;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.frontend.Describe;
import io.pgstitch.protocol.frontend.Execute;
import io.pgstitch.protocol.frontend.FrontendMessage;
import io.pgstitch.protocol.frontend.Parse;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.proxy.rpc.RpcRouter.Routing;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How the router cuts requests into steps, message by message, without a server. */
class RpcRouterTest {

    private final List<Frame> passed = new ArrayList<>();
    private final List<StitchStep> plans = new ArrayList<>();

    @AfterEach
    void releaseEverything() {
        passed.forEach(Frame::release);
        plans.forEach(StitchStep::release);
    }

    private static RpcSettings settings(RpcSplit split) {
        return RpcSettings.of(new RpcConfig(List.of("iasql_*"), split, RpcInTransaction.REJECT, 4,
                Duration.ofSeconds(1)));
    }

    private static Frame frame(FrontendMessage message) {
        ByteBuf out = Unpooled.buffer();
        message.encode(out);
        return new Frame(out);
    }

    /**
     * Bind with no parameters and no result formats: the part the router reads is the two names, written one
     * byte per char (so "caf\u00e9" is LATIN1's café).
     */
    private static Frame bind(String portal, String statement) {
        ByteBuf out = Unpooled.buffer();
        int length = Buffers.beginMessage(out, 'B');
        out.writeCharSequence(portal, StandardCharsets.ISO_8859_1);
        out.writeByte(0);
        out.writeCharSequence(statement, StandardCharsets.ISO_8859_1);
        out.writeByte(0);
        out.writeShort(0).writeShort(0).writeShort(0);
        Buffers.endMessage(out, length);
        return new Frame(out);
    }

    /** A Query whose text is {@code sql} encoded in {@code charset}, as a client of that encoding sends it. */
    private static Frame query(String sql, Charset charset) {
        return frame(new Query(new String(sql.getBytes(charset), StandardCharsets.ISO_8859_1)),
                StandardCharsets.ISO_8859_1);
    }

    /** {@code message} with its strings written one byte per char. */
    private static Frame frame(Query message, Charset charset) {
        ByteBuf out = Unpooled.buffer();
        message.encodeWith(out, charset);
        return new Frame(out);
    }

    private static Frame frame(Parse message, Charset charset) {
        ByteBuf out = Unpooled.buffer();
        message.encodeWith(out, charset);
        return new Frame(out);
    }

    private static String hex(Frame frame) {
        return ByteBufUtil.hexDump(frame.content());
    }

    /** The Query message a client of {@code charset} sends for {@code sql}, as hex. */
    private static String queryHex(String sql, Charset charset) {
        Frame frame = query(sql, charset);
        String hex = hex(frame);
        frame.release();
        return hex;
    }

    private Routing route(RpcRouter router, Frame frame) {
        return route(router, frame, "UTF8");
    }

    private Routing route(RpcRouter router, Frame frame, String clientEncoding) {
        Routing routing = router.route(frame, true, clientEncoding);
        if (routing == Routing.PASS) {
            passed.add(frame);
        }
        return routing;
    }

    /** The steps that run (without the {@link StitchStep.At} marks of where their text starts). */
    private List<StitchStep> plan(RpcRouter router) {
        List<StitchStep> plan = router.takePlan().steps();
        plans.addAll(plan);
        return plan.stream().filter(step -> !(step instanceof StitchStep.At)).toList();
    }

    /** A step as text: where it runs, then each message's type (and a Query's text, a Parse's statement). */
    private static String describe(StitchStep step) {
        StringBuilder out = new StringBuilder(step instanceof StitchStep.OnRpc rpc
                ? "rpc(" + rpc.function() + ", injected " + rpc.injectedParses() + ")"
                : step instanceof StitchStep.Refused refused ? "refused(" + refused.function() + ")"
                : ((StitchStep.OnSession) step).evenAfterError() ? "session!" : "session");
        for (ByteBuf message : step.messages()) {
            char type = (char) message.getByte(message.readerIndex());
            ByteBuf body = message.slice(message.readerIndex() + 5, message.readableBytes() - 5);
            out.append(' ').append(switch (type) {
                case 'Q' -> "Q[" + Query.decode(body).sql() + "]";
                case 'P' -> "P[" + Parse.decode(body).statement() + "]";
                case 'B' -> "B[" + io.pgstitch.protocol.frontend.Bind.decodeNames(body).statement() + "]";
                case 'D' -> "D[" + Describe.decode(body).name() + "]";
                default -> String.valueOf(type);
            });
        }
        return out.toString();
    }

    @Test
    void aQueryWithoutRpcCallPassesWithoutAnalysis() {
        RpcSettings settings = settings(RpcSplit.RPC_ONLY);
        RpcRouter router = new RpcRouter(settings, ByteBufAllocator.DEFAULT);
        assertThat(route(router, frame(new Query("select 'iasql_apply()' /* iasql_x() */; select 2"))))
                .isEqualTo(Routing.PASS);
        assertThat(settings.analyzer().analyses()).as("the lexer's fast path decided alone").isZero();
    }

    @Test
    void aQueryIsCutIntoRunsAndRpcStatements() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        assertThat(route(router, frame(new Query(
                "insert into t values (1); select 1; select iasql_apply(); select 2"))))
                .isEqualTo(Routing.READY);
        assertThat(plan(router)).map(RpcRouterTest::describe).containsExactly(
                "session Q[insert into t values (1); select 1;]",
                "rpc(iasql_apply, injected 0) Q[select iasql_apply();]",
                "session Q[select 2]");
    }

    /** Each segment's errors count from its own start: the plan says where it starts, in characters. */
    @Test
    void eachSegmentIsMarkedWithWhereItStartsInCharacters() {
        // katakana so in SJIS has 0x5C, a backslash, as its second byte: the lexer must not read it as one
        String sql = "select '日本語' as \"表\";\nselect iasql_apply('ソ');  select 2; select iasql_apply()";
        for (Charset charset : List.of(StandardCharsets.UTF_8, Charset.forName("GB18030"), Charset.forName("SJIS"))) {
            RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
            String encoding = charset == StandardCharsets.UTF_8 ? "UTF8" : charset.name().equals("GB18030")
                    ? "GB18030" : "SJIS";
            assertThat(route(router, query(sql, charset), encoding)).isEqualTo(Routing.READY);
            List<StitchStep> steps = router.takePlan().steps();
            plans.addAll(steps);
            List<String> starts = new ArrayList<>();
            int at = 0;
            for (StitchStep step : steps) {
                if (step instanceof StitchStep.At mark) {
                    at = mark.characters();
                    continue;
                }
                ByteBuf query = step.messages().get(0);
                String text = new String(ByteBufUtil.getBytes(query, query.readerIndex() + 5,
                        query.readableBytes() - 6), charset);
                starts.add(at + ":" + text);
                assertThat(sql.indexOf(text)).as(charset + ": " + text).isEqualTo(at);
            }
            assertThat(starts).as(charset.name()).hasSize(4);
        }
    }

    @Test
    void splitModesDecideWhatBecomesASegment() {
        RpcRouter always = new RpcRouter(settings(RpcSplit.ALWAYS), ByteBufAllocator.DEFAULT);
        assertThat(route(always, frame(new Query("select 1; select 2")))).isEqualTo(Routing.READY);
        assertThat(plan(always)).map(RpcRouterTest::describe)
                .containsExactly("session Q[select 1;]", "session Q[select 2]");
        assertThat(route(always, frame(new Query("select 1")))).isEqualTo(Routing.PASS);

        RpcRouter never = new RpcRouter(settings(RpcSplit.NEVER), ByteBufAllocator.DEFAULT);
        assertThat(route(never, frame(new Query("insert into t values (1); select iasql_apply()"))))
                .isEqualTo(Routing.PASS);
        assertThat(route(never, frame(new Query("select iasql_apply()")))).isEqualTo(Routing.READY);
        assertThat(plan(never)).map(RpcRouterTest::describe)
                .containsExactly("rpc(iasql_apply, injected 0) Q[select iasql_apply()]");
    }

    @Test
    void anExtendedBatchIsHeldFromItsFirstRpcMessageAndCutAtSync() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        // What PgJDBC sends for Statement.execute("insert ...; select iasql_apply(); select 2")
        assertThat(route(router, frame(new Parse("", "insert into t values (1)", new int[0])))).isEqualTo(Routing.PASS);
        assertThat(route(router, bind("", ""))).isEqualTo(Routing.PASS);
        assertThat(route(router, frame(new Execute("", 1)))).isEqualTo(Routing.PASS);
        assertThat(route(router, frame(new Parse("", "select iasql_apply()", new int[0])))).isEqualTo(Routing.HELD);
        assertThat(route(router, bind("", ""))).isEqualTo(Routing.HELD);
        assertThat(route(router, frame(new Describe(Describe.Target.PORTAL, "")))).isEqualTo(Routing.HELD);
        assertThat(route(router, frame(new Execute("", 0)))).isEqualTo(Routing.HELD);
        assertThat(route(router, frame(new Parse("", "select 2", new int[0])))).isEqualTo(Routing.HELD);
        assertThat(route(router, bind("", ""))).isEqualTo(Routing.HELD);
        assertThat(route(router, frame(new Execute("", 0)))).isEqualTo(Routing.HELD);
        assertThat(route(router, frame(Sync.INSTANCE))).isEqualTo(Routing.READY);
        assertThat(plan(router)).map(RpcRouterTest::describe).containsExactly(
                "session! S", // ends the INSERT forwarded before the batch was held, even if it failed
                "rpc(iasql_apply, injected 0) P[] B[] D[] E",
                "session P[] B[] E S");
        assertThat(route(router, frame(Sync.INSTANCE))).as("nothing held any more").isEqualTo(Routing.PASS);
    }

    @Test
    void aFlushRunsWhatIsHeldWithoutAnsweringTheSyncThatComesLater() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        // libpq's pipeline mode: PQsendQueryParams, then PQsendFlushRequest, results read before the Sync
        assertThat(route(router, frame(new Parse("", "select iasql_apply()", new int[0])))).isEqualTo(Routing.HELD);
        assertThat(route(router, bind("", ""))).isEqualTo(Routing.HELD);
        assertThat(route(router, frame(new Execute("", 0)))).isEqualTo(Routing.HELD);
        assertThat(route(router, new Frame(Unpooled.buffer().writeByte('H').writeInt(4))))
                .isEqualTo(Routing.READY);
        assertThat(router.planAnswersSync()).isFalse();
        assertThat(plan(router)).map(RpcRouterTest::describe)
                .containsExactly("rpc(iasql_apply, injected 0) P[] B[] E");
        assertThat(route(router, frame(new Parse("", "select 2", new int[0])))).isEqualTo(Routing.PASS);
        assertThat(route(router, frame(Sync.INSTANCE))).as("the client's Sync goes to the session")
                .isEqualTo(Routing.PASS);
        assertThat(route(router, frame(new Query("select iasql_apply()")))).isEqualTo(Routing.READY);
        assertThat(router.planAnswersSync()).isTrue();
        plan(router);
    }

    @Test
    void aQueryInsideAnExtendedBatchGoesToTheSessionWhichAloneKnowsWhetherTheBatchFailed() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        assertThat(route(router, bind("", ""))).isEqualTo(Routing.PASS);
        // after an error in that Bind, PostgreSQL discards the Query unanswered: no stitched request may answer it
        assertThat(route(router, frame(new Query("select 1; select iasql_apply()")))).isEqualTo(Routing.PASS);
        assertThat(route(router, frame(Sync.INSTANCE))).isEqualTo(Routing.PASS);
        assertThat(route(router, frame(new Query("select 1; select iasql_apply()")))).isEqualTo(Routing.READY);
        plan(router);
    }

    @Test
    void aNamedRpcStatementIsReplayedUnderItsOwnNameEachTimeItIsBound() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        route(router, frame(new Parse("S_1", "select * from iasql_install($1)", new int[] {25})));
        route(router, bind("", "S_1"));
        route(router, frame(new Execute("", 0)));
        assertThat(route(router, frame(Sync.INSTANCE))).isEqualTo(Routing.READY);
        // under the client's name, so that PostgreSQL's errors (a Bind with the wrong parameter count) name it
        assertThat(plan(router)).map(RpcRouterTest::describe)
                .containsExactly("rpc(iasql_install, injected 0) P[S_1] B[S_1] E C");

        assertThat(route(router, bind("", "S_1"))).isEqualTo(Routing.HELD);
        route(router, frame(new Describe(Describe.Target.STATEMENT, "S_1")));
        route(router, frame(new Execute("", 0)));
        assertThat(route(router, frame(Sync.INSTANCE))).isEqualTo(Routing.READY);
        assertThat(plan(router)).map(RpcRouterTest::describe)
                .containsExactly("rpc(iasql_install, injected 1) P[S_1] B[S_1] D[S_1] E C");

        // Closed, then the name is reused for an ordinary statement: it goes to the session again.
        assertThat(route(router, frame(new io.pgstitch.protocol.frontend.Close(Describe.Target.STATEMENT, "S_1"))))
                .isEqualTo(Routing.PASS);
        assertThat(route(router, frame(new Parse("S_1", "select 1", new int[0])))).isEqualTo(Routing.PASS);
        assertThat(route(router, bind("", "S_1"))).isEqualTo(Routing.PASS);
    }

    @Test
    void aLatin1QueryIsCutIntoSlicesOfItsOwnBytes() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        Charset latin1 = StandardCharsets.ISO_8859_1;
        assertThat(route(router, query("insert into enc values ('caf\u00e9'); select iasql_noop();", latin1),
                "LATIN1")).isEqualTo(Routing.READY);
        // not "caf\u00ef\u00bf\u00bd": 636166c3afc2bfc2bd was what PostgreSQL stored through pgstitch
        assertThat(plan(router)).map(step -> ByteBufUtil.hexDump(step.messages().get(0))).containsExactly(
                queryHex("insert into enc values ('caf\u00e9');", latin1), queryHex("select iasql_noop();", latin1));
    }

    @Test
    void invalidUtf8ReachesPostgresqlAsItCameForItToRefuse() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        Charset latin1 = StandardCharsets.ISO_8859_1; // a lone 0xE9, which is not UTF-8
        assertThat(route(router, query("insert into enc values ('caf\u00e9'); select iasql_noop();", latin1),
                "UTF8")).isEqualTo(Routing.READY);
        assertThat(ByteBufUtil.hexDump(plan(router).get(0).messages().get(0)))
                .isEqualTo(queryHex("insert into enc values ('caf\u00e9');", latin1)).contains("636166e927");
    }

    @Test
    void anSjisBackslashByteIsPartOfItsCharacterNotAnEscape() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        Charset sjis = Charset.forName("windows-31j"); // \u4e88 is 97 5C: read as a byte, 5C escapes the quote
        assertThat(route(router, query("select E'\u4e88'; select iasql_apply()", sjis), "SJIS"))
                .isEqualTo(Routing.READY);
        assertThat(plan(router)).map(step -> ByteBufUtil.hexDump(step.messages().get(0))).containsExactly(
                queryHex("select E'\u4e88';", sjis), queryHex("select iasql_apply()", sjis));
    }

    @Test
    void anUnknownEncodingIsForwardedUntouchedAndSaidOncePerSession() {
        Logger logger = (Logger) LoggerFactory.getLogger(SessionEncoding.class);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        logger.addAppender(logged);
        try {
            RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
            assertThat(route(router, frame(new Query("select iasql_apply()")), "EBCDIC")).isEqualTo(Routing.PASS);
            assertThat(route(router, frame(new Parse("", "select iasql_apply()", new int[0])), "EBCDIC"))
                    .isEqualTo(Routing.PASS);
            assertThat(route(router, frame(new Query("select iasql_apply(); select 1")), "EBCDIC"))
                    .isEqualTo(Routing.PASS);
            assertThat(logged.list).singleElement().satisfies(event -> assertThat(event.getFormattedMessage())
                    .isEqualTo("client_encoding EBCDIC is unknown to pgstitch: this session's queries go to its"
                            + " backend untouched, RPC calls included"));
            assertThat(route(router, frame(new Query("select iasql_apply()")), "UTF8")).isEqualTo(Routing.READY);
            plan(router);
        } finally {
            logger.detachAppender(logged);
        }
    }

    @Test
    void anRpcParseIsReplayedByteForByteUnderTheClientsName() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        Charset latin1 = StandardCharsets.ISO_8859_1;
        Parse parse = new Parse("caf\u00e9", "select iasql_install('caf\u00e9')", new int[0]);
        Frame parsed = frame(parse, latin1);
        String parseHex = hex(parsed);
        assertThat(route(router, parsed, "LATIN1")).isEqualTo(Routing.HELD);
        route(router, bind("p\u00e9", "caf\u00e9"), "LATIN1");
        route(router, frame(new Execute("p\u00e9", 0)), "LATIN1");
        assertThat(route(router, frame(Sync.INSTANCE), "LATIN1")).isEqualTo(Routing.READY);
        List<ByteBuf> first = plan(router).get(0).messages();
        assertThat(ByteBufUtil.hexDump(first.get(0))).isEqualTo(parseHex);
        assertThat(ByteBufUtil.hexDump(first.get(1))).contains("70e900" + "636166e900");

        assertThat(route(router, bind("", "caf\u00e9"), "LATIN1")).as("names compare byte for byte")
                .isEqualTo(Routing.HELD);
        route(router, frame(new Execute("", 0)), "LATIN1");
        route(router, frame(Sync.INSTANCE), "LATIN1");
        StitchStep replay = plan(router).get(0);
        assertThat(((StitchStep.OnRpc) replay).injectedParses()).isOne();
        assertThat(ByteBufUtil.hexDump(replay.messages().get(0))).isEqualTo(parseHex);
    }

    @Test
    void statementNamesThatDifferOnlyInNonUtf8BytesAreDifferentStatements() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        Charset latin1 = StandardCharsets.ISO_8859_1; // café and cafè: both "caf\ufffd" if read as UTF-8
        route(router, frame(new Parse("caf\u00e9", "select iasql_apply()", new int[0]), latin1), "LATIN1");
        assertThat(route(router, frame(Sync.INSTANCE), "LATIN1")).isEqualTo(Routing.READY);
        plan(router);
        assertThat(route(router, frame(new Parse("caf\u00e8", "select 1", new int[0]), latin1), "LATIN1"))
                .isEqualTo(Routing.PASS);
        assertThat(route(router, frame(Sync.INSTANCE), "LATIN1")).isEqualTo(Routing.PASS);
        assertThat(route(router, bind("", "caf\u00e9"), "LATIN1")).isEqualTo(Routing.HELD);
        route(router, frame(Sync.INSTANCE), "LATIN1");
        plan(router);
    }

    @Test
    void statementsWhoseEffectLivesInTheSessionAreGivenItOrRefused() {
        RpcSettings settings = settings(RpcSplit.RPC_ONLY);
        RpcRouter router = new RpcRouter(settings, ByteBufAllocator.DEFAULT);
        assertThat(route(router, frame(new Query("prepare q(int) as select iasql_echo($1); "
                + "create temp table tt as select iasql_echo(9); set search_path = iasql_x(); "
                + "declare c cursor for select iasql_setof(3)")))).isEqualTo(Routing.READY);
        List<StitchStep> steps = plan(router);
        assertThat(steps).map(RpcRouterTest::describe).containsExactly(
                "session Q[prepare q(int) as select iasql_echo($1);]", // it only parses: in the session
                "refused(iasql_echo) Q[create temp table tt as select iasql_echo(9);]",
                "session Q[set search_path = iasql_x();]", // a syntax error, PostgreSQL's own
                "rpc(iasql_setof, injected 0) Q[declare c cursor for select iasql_setof(3)]");
        assertThat(((StitchStep.Refused) steps.get(1)).error().getMessage())
                .isEqualTo("RPC function iasql_echo cannot run in a statement that creates a temporary table");
        assertThat(((StitchStep.OnRpc) steps.get(3)).lifetime().declares()).isEqualTo("c");

        long analysed = settings.analyzer().analyses();
        assertThat(route(router, frame(new Query("execute q(6)")))).as("not prepared yet: PostgreSQL's answer")
                .isEqualTo(Routing.PASS);
        ((StitchStep.OnSession) steps.get(0)).whenSucceeded().run(); // the session answered PREPARE
        assertThat(route(router, frame(new Query("select 1; execute q(6)")))).isEqualTo(Routing.READY);
        List<StitchStep> execute = plan(router);
        assertThat(execute).map(RpcRouterTest::describe).containsExactly("session Q[select 1;]",
                "rpc(iasql_echo, injected 0) Q[execute q(6)]");
        assertThat(((StitchStep.OnRpc) execute.get(1)).preamble()).hasSize(1).first()
                .satisfies(prepare -> assertThat(Query.decode(prepare.slice(5, prepare.readableBytes() - 5)).sql())
                        .isEqualTo("prepare q(int) as select iasql_echo($1);"));
        assertThat(settings.analyzer().analyses()).as("the fast path alone, then an analysis while q is remembered")
                .isEqualTo(analysed + 1);

        assertThat(route(router, frame(new Query("deallocate q")))).isEqualTo(Routing.READY);
        ((StitchStep.OnSession) plan(router).get(0)).whenSucceeded().run();
        assertThat(route(router, frame(new Query("execute q(6)")))).as("forgotten").isEqualTo(Routing.PASS);
    }

    @Test
    void aPortalReadAtAFlushAndALimitedExecuteTellTheirPortals() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        // node-postgres' pg-cursor: Parse, Bind C_1, Describe portal, Flush
        route(router, frame(new Parse("", "select * from iasql_setof(5)", new int[0])));
        route(router, bind("C_1", ""));
        route(router, frame(new Describe(Describe.Target.PORTAL, "C_1")));
        assertThat(route(router, new Frame(Unpooled.buffer().writeByte('H').writeInt(4)))).isEqualTo(Routing.READY);
        StitchStep.OnRpc first = (StitchStep.OnRpc) plan(router).get(0);
        assertThat(first.lifetime()).isEqualTo(new StitchStep.Lifetime(null, null, null, List.of("C_1"), false,
                false, true));
        assertThat(first.lifetime().keeps(false)).as("read later before the Sync: kept").isTrue();

        // PgJDBC with a fetch size: Execute with a row limit, then Sync
        route(router, frame(new Parse("", "select * from iasql_setof(5)", new int[0])));
        route(router, bind("C_2", ""));
        route(router, frame(new Execute("C_2", 2)));
        route(router, frame(new Execute("C_2", 2)));
        assertThat(route(router, frame(Sync.INSTANCE))).isEqualTo(Routing.READY);
        List<StitchStep> steps = plan(router);
        assertThat(steps).map(RpcRouterTest::describe).as("the portal's Executes stay on its connection")
                .containsExactly("rpc(iasql_setof, injected 0) P[] B[] E E");
        StitchStep.Lifetime lifetime = ((StitchStep.OnRpc) steps.get(0)).lifetime();
        assertThat(lifetime.keeps(false)).as("in autocommit the portal ends at the Sync").isFalse();
        assertThat(lifetime.keeps(true)).as("in a block it lives until the block ends").isTrue();
    }

    @Test
    void onlyTextsThatMayControlTheTransactionAreAnalysedForTheKeptConnection() {
        assertThat(FollowedStatements.mayControlTransaction("COMMIT")).isTrue();
        assertThat(FollowedStatements.mayControlTransaction("  savepoint JDBC_SAVEPOINT_1")).isTrue();
        assertThat(FollowedStatements.mayControlTransaction("ROLLBACK TO SAVEPOINT s")).isTrue();
        assertThat(FollowedStatements.mayControlTransaction("release s")).isTrue();
        assertThat(FollowedStatements.mayControlTransaction("end")).isTrue();
        assertThat(FollowedStatements.mayControlTransaction("/* a comment */ commit")).isTrue();
        assertThat(FollowedStatements.mayControlTransaction("select 1")).isFalse();
        assertThat(FollowedStatements.mayControlTransaction("committed")).isFalse();
        assertThat(FollowedStatements.mayControlTransaction("")).isFalse();
    }

    private static BatchPlanner.Held followed(Frame message, boolean execute, StitchStep.OnKept follow) {
        return new BatchPlanner.Held(message.content(), BatchPlanner.Target.SESSION, null, execute, null, null, 0,
                null, follow);
    }

    private static BatchPlanner.Held plain(Frame message, boolean execute) {
        return followed(message, execute, null);
    }

    /** As PgJDBC sends setSavepoint() and commit() while a block is kept: Parse, Bind, Execute of each. */
    @Test
    void aSavepointOrCommitSentWithTheExtendedProtocolIsFollowedByTheKeptConnection() {
        RpcSettings settings = settings(RpcSplit.RPC_ONLY);
        KeptConnection kept = new KeptConnection();
        QueryPlanner queries = new QueryPlanner(settings, ByteBufAllocator.DEFAULT, kept, new TransactionWatch());
        BatchPlanner batches = new BatchPlanner(settings, ByteBufAllocator.DEFAULT, kept, queries,
                new TransactionWatch());
        StitchStep.OnKept savepoint = new StitchStep.OnKept(StitchStep.OnKept.Follows.SAVEPOINT, "s");
        List<StitchStep> steps = batches.plan(List.of(
                plain(frame(new Parse("", "insert into t values (1)", new int[0])), false),
                plain(bind("", ""), false),
                plain(frame(new Execute("", 0)), true),
                followed(frame(new Parse("", "savepoint s", new int[0])), false, savepoint),
                followed(bind("", ""), false,
                        savepoint),
                followed(frame(new Execute("", 0)), true, savepoint)), false, false);
        plans.addAll(steps);
        assertThat(steps).map(RpcRouterTest::describeFollowing).containsExactly(
                "session P[] B[] E S", "session(transaction control) P[] B[] E S", "kept SAVEPOINT s");

        StitchStep.OnKept commit = new StitchStep.OnKept(StitchStep.OnKept.Follows.COMMIT, null);
        steps = batches.plan(List.of(
                followed(bind("", "S_1"),
                        false, commit),
                followed(frame(new Execute("", 1)), true, commit),
                followed(bind("", "S_1"),
                        false, commit),
                followed(frame(new Execute("", 1)), true, commit)), false, false);
        plans.addAll(steps);
        assertThat(steps).as("the kept connection commits before the session's Execute; each bind another COMMIT")
                .map(RpcRouterTest::describeFollowing).containsExactly(
                        "session(transaction control) B[S_1] S", "kept COMMIT null",
                        "session(transaction control) E S",
                        "session(transaction control) B[S_1] S", "kept COMMIT null",
                        "session(transaction control) E S");

        steps = batches.plan(List.of(followed(frame(new Parse("S_2", "release s", new int[0])), false,
                new StitchStep.OnKept(StitchStep.OnKept.Follows.RELEASE, "s"))), false, false);
        plans.addAll(steps);
        assertThat(steps).as("prepared, not run: nothing to follow").map(RpcRouterTest::describeFollowing)
                .containsExactly("session(transaction control) P[S_2] S");
    }

    private static String describeFollowing(StitchStep step) {
        if (step instanceof StitchStep.OnKept follow) {
            return "kept " + follow.follows() + " " + follow.savepoint();
        }
        String described = describe(step);
        return step instanceof StitchStep.OnSession session && session.transactionControl()
                ? described.replaceFirst("^session", "session(transaction control)") : described;
    }
}
