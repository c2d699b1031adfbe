package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.frontend.Bind;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.frontend.Close;
import io.pgstitch.protocol.frontend.Describe;
import io.pgstitch.protocol.frontend.Execute;
import io.pgstitch.protocol.frontend.Parse;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.sqlsplit.ClientEncoding;
import io.pgstitch.sqlsplit.QueryAnalysis;
import io.pgstitch.sqlsplit.Segment;
import io.pgstitch.sqlsplit.SplitMode;
import io.pgstitch.sqlsplit.SqlStatement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
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
 * client's ReadyForQuery, which its Sync gets later). RPC statements live only here: the client's Parse, kept
 * as it came, is replayed on each RPC connection that binds the statement, under the client's own name, so
 * that PostgreSQL's errors name the statement the client knows; the connection's reset when it goes back to
 * its pool ({@code DISCARD ALL}) drops it before the connection serves another call. Messages of the batch
 * that passed before the first RPC message form a segment of their own.
 *
 * <p>Texts and names are the client's bytes, in its {@code client_encoding}: the router reads them one char
 * per byte (ISO-8859-1), the analyzer lexes them as bytes in that encoding, and a segment is a slice of the
 * original bytes. Nothing is re-encoded, and PostgreSQL alone judges whether the bytes are valid. In a session
 * whose encoding pgstitch does not know, Query and Parse texts go to the session backend untouched.
 */
public final class RpcRouter {

    private static final Logger log = LoggerFactory.getLogger(RpcRouter.class);

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

    /** @param parseMessage the client's Parse message, byte for byte, to replay on an RPC connection */
    private record RpcStatement(String name, byte[] parseMessage, String function) {
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
    /** The session's client_encoding as last reported, and what it means to the analyzer (null: unknown). */
    private String encodingName;
    private ClientEncoding encoding;
    private boolean toldEncodingUnknown;

    public RpcRouter(RpcSettings settings, ByteBufAllocator alloc) {
        this.settings = settings;
        this.alloc = alloc;
    }

    /**
     * Routes one client message. On {@link Routing#PASS}, and when this throws, the caller still owns
     * {@code frame}; otherwise the router has taken it.
     *
     * @param standardConformingStrings the session's setting, which decides how backslashes in strings lex
     * @param clientEncoding            the session's client_encoding as reported (e.g. {@code UTF8},
     *                                  {@code LATIN1}), which decides how its bytes lex
     */
    public Routing route(Frame frame, boolean standardConformingStrings, String clientEncoding) {
        byte type = frame.type();
        if (rpcStatements.isEmpty() && rpcPortals.isEmpty()
                && (type == Bind.TYPE || type == Describe.TYPE || type == Execute.TYPE || type == Close.TYPE)) {
            // Nothing refers to an RPC statement yet: no need to read the names (pgbench -M prepared's hot path).
            return session(frame, type == Execute.TYPE);
        }
        return switch (type) {
            case Query.TYPE -> query(frame, standardConformingStrings, clientEncoding);
            case Parse.TYPE -> {
                Parse parse = Parse.decodeWith(frame.body(), StandardCharsets.ISO_8859_1);
                String function = rpcFunction(parse.query(), standardConformingStrings, clientEncoding);
                if (function != null) {
                    RpcStatement statement = new RpcStatement(parse.statement(), firstMessage(frame.content()), function);
                    rpcStatements.put(parse.statement(), statement);
                    yield hold(frame, Target.RPC, statement, false);
                }
                rpcStatements.remove(parse.statement());
                yield session(frame, false);
            }
            case Bind.TYPE -> {
                Bind.decodeNames(frame.body()); // checks the layout; the names are read below, byte for byte
                String portal = name(frame.body(), 0);
                RpcStatement statement = rpcStatements.get(name(frame.body(), portal.length() + 1));
                if (statement != null) {
                    rpcPortals.put(portal, statement);
                    yield hold(frame, Target.RPC, statement, false);
                }
                rpcPortals.remove(portal);
                yield session(frame, false);
            }
            case Describe.TYPE -> {
                Describe describe = Describe.decode(frame.body());
                RpcStatement statement = (describe.target() == Describe.Target.PORTAL ? rpcPortals : rpcStatements)
                        .get(name(frame.body(), 1));
                yield statement != null ? hold(frame, Target.RPC, statement, false) : session(frame, false);
            }
            case Execute.TYPE -> {
                Execute.decode(frame.body());
                RpcStatement statement = rpcPortals.get(name(frame.body(), 0));
                yield statement != null ? hold(frame, Target.RPC, statement, true) : session(frame, true);
            }
            case Close.TYPE -> {
                // Closing what exists only here needs no RPC connection: PostgreSQL answers CloseComplete for
                // a name it does not know, so the session backend can answer it.
                Close close = Close.decode(frame.body());
                (close.target() == Describe.Target.STATEMENT ? rpcStatements : rpcPortals)
                        .remove(name(frame.body(), 1));
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

    private Routing query(Frame frame, boolean standardConformingStrings, String clientEncoding) {
        if (held != null) {
            return hold(frame, Target.SESSION, null, false);
        }
        unsynced = false; // a Query ends whatever implicit transaction unsynced messages had opened
        ClientEncoding encoding = encoding(clientEncoding);
        if (encoding == null) {
            return Routing.PASS;
        }
        String bytes = Query.decodeWith(frame.body(), StandardCharsets.ISO_8859_1).sql();
        List<StitchStep> steps = planQuery(bytes, encoding, standardConformingStrings);
        if (steps == null) {
            return Routing.PASS;
        }
        frame.release();
        plan = steps;
        planAnswersSync = true;
        return Routing.READY;
    }

    /**
     * The steps of a Query text, or null when it goes to the session backend untouched.
     *
     * @param bytes the text as the client's bytes, one char per byte
     */
    private List<StitchStep> planQuery(String bytes, ClientEncoding encoding, boolean standardConformingStrings) {
        SplitMode split = settings.split();
        if (split != SplitMode.ALWAYS
                && !settings.analyzer().mayContainRpcCall(bytes, encoding, standardConformingStrings)) {
            return null; // the fast path: no word that could name an RPC function
        }
        QueryAnalysis analysis = settings.analyzer().analyze(bytes, encoding, standardConformingStrings);
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
            // a slice of the client's bytes, written back byte for byte
            List<ByteBuf> messages = List.of(new Query(segment.text(bytes)).encodeWith(alloc,
                    StandardCharsets.ISO_8859_1));
            steps.add(segment.rpc() ? new StitchStep.OnRpc(firstCall(segment.statements()), messages, 0, 0)
                    : new StitchStep.OnSession(messages));
        }
        return steps;
    }

    private static String firstCall(List<SqlStatement> statements) {
        return statements.stream().flatMap(statement -> statement.rpcCalls().stream()).findFirst().orElseThrow();
    }

    /** The RPC function a prepared statement's query (the client's bytes, one char per byte) calls, or null. */
    private String rpcFunction(String bytes, boolean standardConformingStrings, String clientEncoding) {
        ClientEncoding encoding = encoding(clientEncoding);
        if (encoding == null || !settings.analyzer().mayContainRpcCall(bytes, encoding, standardConformingStrings)) {
            return null;
        }
        List<SqlStatement> statements = settings.analyzer().analyze(bytes, encoding, standardConformingStrings)
                .statements();
        return statements.stream().anyMatch(SqlStatement::hasRpcCall) ? firstCall(statements) : null;
    }

    /**
     * What the session's client_encoding means to the analyzer, or null when pgstitch does not know it: the
     * session's texts then go to its backend untouched, which is said once per session.
     */
    private ClientEncoding encoding(String name) {
        if (!Objects.equals(name, encodingName)) {
            encodingName = name;
            encoding = ClientEncoding.of(name);
            if (encoding == null && !toldEncodingUnknown) {
                toldEncodingUnknown = true;
                log.info("client_encoding {} is unknown to pgstitch: this session's queries go to its backend"
                        + " untouched, RPC calls included", name);
            }
        }
        return encoding;
    }

    /** A copy of the first message of {@code content} (a Parse frame), to replay later. */
    private static byte[] firstMessage(ByteBuf content) {
        return ByteBufUtil.getBytes(content, content.readerIndex(), 1 + content.getInt(content.readerIndex() + 1));
    }

    /**
     * The NUL-terminated name at {@code index} of {@code body} (whose layout was checked), one char per byte:
     * names compare byte for byte, as PostgreSQL compares them, whatever the encoding.
     */
    private static String name(ByteBuf body, int index) {
        int end = body.indexOf(index, body.writerIndex(), (byte) 0);
        return body.toString(index, end - index, StandardCharsets.ISO_8859_1);
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
        // One RPC statement per segment, prepared under the client's own name: its messages pass as they came.
        RpcStatement statement = segment.get(0).statement();
        int injected = 0;
        if (segment.get(0).message().getByte(segment.get(0).message().readerIndex()) != Parse.TYPE) {
            messages.add(alloc.buffer(statement.parseMessage().length).writeBytes(statement.parseMessage()));
            injected = 1;
        }
        segment.forEach(message -> messages.add(message.message()));
        int closes = 0;
        if (!statement.name().isEmpty()) { // nothing of the client's stays behind on a pooled connection
            messages.add(closeStatement(statement.name()));
            closes = 1;
        }
        messages.add(Sync.INSTANCE.encode(alloc));
        return new StitchStep.OnRpc(statement.function(), messages, injected, closes);
    }

    /** Close of a statement whose name is the client's bytes (held one char per byte), sent back as they came. */
    private ByteBuf closeStatement(String name) {
        ByteBuf out = alloc.buffer(name.length() + 7);
        int length = Buffers.beginMessage(out, Close.TYPE);
        out.writeByte('S');
        out.writeCharSequence(name, StandardCharsets.ISO_8859_1);
        out.writeByte(0);
        Buffers.endMessage(out, length);
        return out;
    }
}
