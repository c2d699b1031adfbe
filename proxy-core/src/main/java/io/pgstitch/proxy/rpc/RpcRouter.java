package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.frontend.Bind;
import io.pgstitch.protocol.frontend.Close;
import io.pgstitch.protocol.frontend.Describe;
import io.pgstitch.protocol.frontend.Execute;
import io.pgstitch.protocol.frontend.Parse;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.sqlsplit.QueryAnalysis;
import io.pgstitch.sqlsplit.Segment;
import io.pgstitch.sqlsplit.SplitMode;
import io.pgstitch.sqlsplit.SqlStatement;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Decides, message by message, whether what a client sends passes through to its session backend untouched or
 * becomes a stitched request: a plan of {@link StitchStep}s run in order on the session backend and on RPC
 * connections. Session loop only.
 *
 * <p>Simple protocol: a Query whose text calls an RPC function is cut into segments at once. Extended protocol:
 * a Parse whose query calls one marks that prepared statement, and a Bind of it marks the portal. From the
 * first message that touches an RPC statement until the Sync, the batch is held back; at the Sync it is cut
 * into segments exactly like a multi-statement Query: runs of other messages stay on the session backend,
 * each RPC Execute (with its Parse, Bind, Describe) runs on an RPC connection, and every segment ends with a
 * Sync of the proxy's; a Flush in a held batch runs what is held so far at once, the same way (without the
 * client's ReadyForQuery, which its Sync gets later). RPC statements live only here: their Parse is replayed
 * on the RPC connection under the unnamed statement, so nothing is left behind on a pooled connection.
 * Messages of the batch that passed before the first RPC message form a segment of their own.
 */
public final class RpcRouter {

    /** What became of a client message. */
    public enum Routing {
        /** Forward it to the session backend as it is. */
        PASS,
        /** Taken: part of an extended-protocol batch held until its Sync. */
        HELD,
        /** Taken: a plan is ready ({@link #takePlan()}). */
        READY
    }

    /** A held extended batch larger than this is a client that never syncs, not a real batch. */
    static final long MAX_HELD_BYTES = 64L * 1024 * 1024;

    private enum Target { SESSION, RPC }

    private record RpcStatement(Parse parse, String function) {
    }

    /**
     * A held message; {@code statement} is the RPC statement an RPC message belongs to, as it was when the message
     * arrived (a later Parse may reuse the name).
     */
    private record Held(ByteBuf message, Target target, RpcStatement statement, boolean execute) {
    }

    private final RpcSettings settings;
    private final ByteBufAllocator alloc;
    private final Map<String, RpcStatement> rpcStatements = new HashMap<>();
    /** Portal name to the RPC statement it was bound from; portals end at Sync. */
    private final Map<String, RpcStatement> rpcPortals = new HashMap<>();
    private List<Held> held;
    private long heldBytes;
    /** Messages of the current batch were forwarded before it was held: they end in a segment of their own. */
    private boolean heldAfterForwarded;
    /** Extended-protocol messages forwarded since the last Sync. */
    private boolean unsynced;
    private boolean executeSinceSync;
    private List<StitchStep> plan;
    /** Whether the plan answers a client's Sync or Query with a ReadyForQuery (not so for one run at a Flush). */
    private boolean planAnswersSync;

    public RpcRouter(RpcSettings settings, ByteBufAllocator alloc) {
        this.settings = settings;
        this.alloc = alloc;
    }

    /**
     * Routes one client message. On {@link Routing#PASS}, and when this throws, the caller still owns
     * {@code frame}; otherwise the router has taken it.
     *
     * @param standardConformingStrings the session's setting, which decides how backslashes in strings lex
     */
    public Routing route(Frame frame, boolean standardConformingStrings) {
        byte type = frame.type();
        if (rpcStatements.isEmpty() && rpcPortals.isEmpty()
                && (type == Bind.TYPE || type == Describe.TYPE || type == Execute.TYPE || type == Close.TYPE)) {
            // Nothing refers to an RPC statement yet: no need to read the names (pgbench -M prepared's hot path).
            return session(frame, type == Execute.TYPE);
        }
        return switch (type) {
            case Query.TYPE -> query(frame, standardConformingStrings);
            case Parse.TYPE -> {
                Parse parse = Parse.decode(frame.body());
                String function = rpcFunction(parse.query(), standardConformingStrings);
                if (function != null) {
                    RpcStatement statement = new RpcStatement(parse, function);
                    rpcStatements.put(parse.statement(), statement);
                    yield hold(frame, Target.RPC, statement, false);
                }
                rpcStatements.remove(parse.statement());
                yield session(frame, false);
            }
            case Bind.TYPE -> {
                Bind bind = Bind.decodeNames(frame.body());
                RpcStatement statement = rpcStatements.get(bind.statement());
                if (statement != null) {
                    rpcPortals.put(bind.portal(), statement);
                    yield hold(frame, Target.RPC, statement, false);
                }
                rpcPortals.remove(bind.portal());
                yield session(frame, false);
            }
            case Describe.TYPE -> {
                Describe describe = Describe.decode(frame.body());
                RpcStatement statement = (describe.target() == Describe.Target.PORTAL ? rpcPortals : rpcStatements)
                        .get(describe.name());
                yield statement != null ? hold(frame, Target.RPC, statement, false) : session(frame, false);
            }
            case Execute.TYPE -> {
                RpcStatement statement = rpcPortals.get(Execute.decode(frame.body()).portal());
                yield statement != null ? hold(frame, Target.RPC, statement, true) : session(frame, true);
            }
            case Close.TYPE -> {
                // Closing what exists only here needs no RPC connection: PostgreSQL answers CloseComplete for
                // a name it does not know, so the session backend can answer it.
                Close close = Close.decode(frame.body());
                (close.target() == Describe.Target.STATEMENT ? rpcStatements : rpcPortals).remove(close.name());
                yield session(frame, false);
            }
            case 'H' -> {
                if (held == null) {
                    yield Routing.PASS;
                }
                // A Flush in a held batch: the client waits for what it sent so far before it syncs (libpq's
                // pipeline mode, psycopg's pipeline). That part runs now, in segments ended by the proxy's Syncs;
                // the client's own Sync comes later.
                frame.release();
                yield runHeld(false);
            }
            case Sync.TYPE -> sync(frame);
            default -> held != null ? hold(frame, Target.SESSION, null, false) : Routing.PASS;
        };
    }

    /** Whether the plan of the last {@link Routing#READY} ends with a ReadyForQuery for the client. */
    public boolean planAnswersSync() {
        return planAnswersSync;
    }

    /** The plan made by the last {@link Routing#READY}; the caller owns it from now on. */
    public List<StitchStep> takePlan() {
        List<StitchStep> taken = Objects.requireNonNull(plan, "no plan is ready");
        plan = null;
        return taken;
    }

    /** Releases whatever is held: the client left. */
    public void release() {
        if (held != null) {
            held.forEach(message -> message.message().release());
            held = null;
        }
        if (plan != null) {
            plan.forEach(StitchStep::release);
            plan = null;
        }
    }

    private Routing query(Frame frame, boolean standardConformingStrings) {
        if (held != null) {
            return hold(frame, Target.SESSION, null, false);
        }
        unsynced = false; // a Query ends whatever implicit transaction unsynced messages had opened
        String sql = Query.decode(frame.body()).sql();
        List<StitchStep> steps = planQuery(sql, standardConformingStrings);
        if (steps == null) {
            return Routing.PASS;
        }
        frame.release();
        plan = steps;
        planAnswersSync = true;
        return Routing.READY;
    }

    /** The steps of a Query text, or null when it goes to the session backend untouched. */
    private List<StitchStep> planQuery(String sql, boolean standardConformingStrings) {
        SplitMode split = settings.split();
        if (split != SplitMode.ALWAYS && !settings.analyzer().mayContainRpcCall(sql, standardConformingStrings)) {
            return null; // the fast path: no word that could name an RPC function
        }
        QueryAnalysis analysis = settings.analyzer().analyze(sql, standardConformingStrings);
        List<SqlStatement> statements = analysis.statements();
        boolean cut = switch (split) {
            case RPC_ONLY -> analysis.hasRpcCall();
            case ALWAYS -> statements.size() > 1 || analysis.hasRpcCall();
            case NEVER -> statements.size() == 1 && analysis.hasRpcCall();
        };
        if (!cut) {
            return null;
        }
        List<StitchStep> steps = new ArrayList<>();
        for (Segment segment : analysis.segments(split)) {
            List<ByteBuf> messages = List.of(new Query(segment.text(sql)).encode(alloc));
            steps.add(segment.rpc() ? new StitchStep.OnRpc(firstCall(segment.statements()), messages, 0)
                    : new StitchStep.OnSession(messages));
        }
        return steps;
    }

    private static String firstCall(List<SqlStatement> statements) {
        return statements.stream().flatMap(statement -> statement.rpcCalls().stream()).findFirst().orElseThrow();
    }

    /** The RPC function a prepared statement's query calls, or null. */
    private String rpcFunction(String sql, boolean standardConformingStrings) {
        if (!settings.analyzer().mayContainRpcCall(sql, standardConformingStrings)) {
            return null;
        }
        List<SqlStatement> statements = settings.analyzer().analyze(sql, standardConformingStrings).statements();
        return statements.stream().anyMatch(SqlStatement::hasRpcCall) ? firstCall(statements) : null;
    }

    /** A message for the session backend: forwarded, unless the batch is held (or must be, for split: always). */
    private Routing session(Frame frame, boolean execute) {
        if (held == null && !(settings.split() == SplitMode.ALWAYS && executeSinceSync)) {
            unsynced = true;
            executeSinceSync |= execute;
            return Routing.PASS;
        }
        return hold(frame, Target.SESSION, null, execute);
    }

    private Routing hold(Frame frame, Target target, RpcStatement statement, boolean execute) {
        if (held == null) {
            held = new ArrayList<>();
            heldBytes = 0;
            heldAfterForwarded = unsynced;
            unsynced = false;
        }
        heldBytes += frame.content().readableBytes();
        if (heldBytes > MAX_HELD_BYTES) { // thrown before the frame is taken: the caller still releases it
            throw PgException.fatal(SqlState.PROGRAM_LIMIT_EXCEEDED, "an extended-protocol batch that calls an"
                    + " RPC function sent more than " + MAX_HELD_BYTES + " bytes without a Sync");
        }
        held.add(new Held(frame.content(), target, statement, execute));
        executeSinceSync |= execute;
        return Routing.HELD;
    }

    private Routing sync(Frame frame) {
        if (held == null) {
            rpcPortals.clear();
            executeSinceSync = false;
            unsynced = false;
            return Routing.PASS;
        }
        frame.release();
        return runHeld(true);
    }

    /** Plans the held batch; its portals end with its segments. */
    private Routing runHeld(boolean answersSync) {
        rpcPortals.clear();
        executeSinceSync = false;
        plan = planBatch(held);
        planAnswersSync = answersSync;
        held = null;
        return Routing.READY;
    }

    /** Cuts a held batch into segments, each ending with a Sync of the proxy's. */
    private List<StitchStep> planBatch(List<Held> batch) {
        List<StitchStep> steps = new ArrayList<>();
        if (heldAfterForwarded) {
            steps.add(new StitchStep.OnSession(List.of(Sync.INSTANCE.encode(alloc)), true));
        }
        List<Held> segment = new ArrayList<>();
        for (Held message : batch) {
            if (!segment.isEmpty() && startsSegment(segment, message)) {
                steps.add(step(segment));
                segment = new ArrayList<>();
            }
            segment.add(message);
        }
        if (!segment.isEmpty()) {
            steps.add(step(segment));
        }
        return steps;
    }

    private boolean startsSegment(List<Held> segment, Held next) {
        Held first = segment.get(0);
        boolean executed = segment.stream().anyMatch(Held::execute);
        return first.target() != next.target()
                || executed && (next.target() == Target.RPC || settings.split() == SplitMode.ALWAYS)
                || next.target() == Target.RPC && first.statement() != next.statement();
    }

    private StitchStep step(List<Held> segment) {
        List<ByteBuf> messages = new ArrayList<>(segment.size() + 2);
        if (segment.get(0).target() == Target.SESSION) {
            segment.forEach(message -> messages.add(message.message()));
            messages.add(Sync.INSTANCE.encode(alloc));
            return new StitchStep.OnSession(messages);
        }
        // One RPC statement per segment, run as the unnamed statement on the RPC connection.
        RpcStatement statement = segment.get(0).statement();
        int injected = 0;
        if (segment.get(0).message().getByte(segment.get(0).message().readerIndex()) != Parse.TYPE) {
            messages.add(unnamed(statement.parse()).encode(alloc));
            injected = 1;
        }
        for (Held message : segment) {
            messages.add(renameStatement(message.message()));
        }
        messages.add(Sync.INSTANCE.encode(alloc));
        return new StitchStep.OnRpc(statement.function(), messages, injected);
    }

    private static Parse unnamed(Parse parse) {
        return new Parse("", parse.query(), parse.parameterTypes());
    }

    /** Parse, Bind and Describe of a statement, re-encoded to name the unnamed statement; takes {@code message}. */
    private ByteBuf renameStatement(ByteBuf message) {
        ByteBuf body = message.slice(message.readerIndex() + 5, message.getInt(message.readerIndex() + 1) - 4);
        ByteBuf renamed = switch (message.getByte(message.readerIndex())) {
            case Parse.TYPE -> unnamed(Parse.decode(body)).encode(alloc);
            case Describe.TYPE -> {
                Describe describe = Describe.decode(body);
                yield describe.target() == Describe.Target.STATEMENT
                        ? new Describe(Describe.Target.STATEMENT, "").encode(alloc) : null;
            }
            case Bind.TYPE -> {
                ByteBuf out = alloc.buffer(body.readableBytes() + 5);
                int length = Buffers.beginMessage(out, Bind.TYPE);
                Buffers.writeCString(out, Buffers.readCString(body, "Bind portal name"));
                Buffers.readCString(body, "Bind statement name");
                out.writeByte(0);
                out.writeBytes(body);
                Buffers.endMessage(out, length);
                yield out;
            }
            default -> null;
        };
        if (renamed == null) {
            return message;
        }
        message.release();
        return renamed;
    }
}
