package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
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

    /** Bind with no parameters and no result formats: the part the router reads is the two names. */
    private static Frame bind(String portal, String statement) {
        ByteBuf out = Unpooled.buffer();
        int length = Buffers.beginMessage(out, 'B');
        Buffers.writeCString(out, portal);
        Buffers.writeCString(out, statement);
        out.writeShort(0).writeShort(0).writeShort(0);
        Buffers.endMessage(out, length);
        return new Frame(out);
    }

    private Routing route(RpcRouter router, Frame frame) {
        Routing routing = router.route(frame, true);
        if (routing == Routing.PASS) {
            passed.add(frame);
        }
        return routing;
    }

    private List<StitchStep> plan(RpcRouter router) {
        List<StitchStep> plan = router.takePlan();
        plans.addAll(plan);
        return plan;
    }

    /** A step as text: where it runs, then each message's type (and a Query's text, a Parse's statement). */
    private static String describe(StitchStep step) {
        StringBuilder out = new StringBuilder(step instanceof StitchStep.OnRpc rpc
                ? "rpc(" + rpc.function() + ", injected " + rpc.injectedParses() + ")"
                : ((StitchStep.OnSession) step).evenAfterError() ? "session!" : "session");
        for (ByteBuf message : step.messages()) {
            char type = (char) message.getByte(message.readerIndex());
            ByteBuf body = message.slice(message.readerIndex() + 5, message.readableBytes() - 5);
            out.append(' ').append(switch (type) {
                case 'Q' -> "Q[" + Query.decode(body).sql() + "]";
                case 'P' -> "P[" + Parse.decode(body).statement() + "]";
                case 'B' -> "B[" + io.pgstitch.protocol.frontend.Bind.decodeNames(body).statement() + "]";
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
                "rpc(iasql_apply, injected 0) P[] B[] D E S",
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
                .containsExactly("rpc(iasql_apply, injected 0) P[] B[] E S");
        assertThat(route(router, frame(new Parse("", "select 2", new int[0])))).isEqualTo(Routing.PASS);
        assertThat(route(router, frame(Sync.INSTANCE))).as("the client's Sync goes to the session")
                .isEqualTo(Routing.PASS);
        assertThat(route(router, frame(new Query("select iasql_apply()")))).isEqualTo(Routing.READY);
        assertThat(router.planAnswersSync()).isTrue();
        plan(router);
    }

    @Test
    void aNamedRpcStatementIsReplayedUnnamedEachTimeItIsBound() {
        RpcRouter router = new RpcRouter(settings(RpcSplit.RPC_ONLY), ByteBufAllocator.DEFAULT);
        route(router, frame(new Parse("S_1", "select * from iasql_install($1)", new int[] {25})));
        route(router, bind("", "S_1"));
        route(router, frame(new Execute("", 0)));
        assertThat(route(router, frame(Sync.INSTANCE))).isEqualTo(Routing.READY);
        assertThat(plan(router)).map(RpcRouterTest::describe)
                .containsExactly("rpc(iasql_install, injected 0) P[] B[] E S");

        assertThat(route(router, bind("", "S_1"))).isEqualTo(Routing.HELD);
        route(router, frame(new Execute("", 0)));
        assertThat(route(router, frame(Sync.INSTANCE))).isEqualTo(Routing.READY);
        assertThat(plan(router)).map(RpcRouterTest::describe)
                .containsExactly("rpc(iasql_install, injected 1) P[] B[] E S");

        // Closed, then the name is reused for an ordinary statement: it goes to the session again.
        assertThat(route(router, frame(new io.pgstitch.protocol.frontend.Close(Describe.Target.STATEMENT, "S_1"))))
                .isEqualTo(Routing.PASS);
        assertThat(route(router, frame(new Parse("S_1", "select 1", new int[0])))).isEqualTo(Routing.PASS);
        assertThat(route(router, bind("", "S_1"))).isEqualTo(Routing.PASS);
    }
}
