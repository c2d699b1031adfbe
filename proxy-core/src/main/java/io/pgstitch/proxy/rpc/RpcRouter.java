package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
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
import io.pgstitch.proxy.rpc.BatchPlanner.Held;
import io.pgstitch.proxy.rpc.BatchPlanner.Registration;
import io.pgstitch.proxy.rpc.BatchPlanner.RpcStatement;
import io.pgstitch.proxy.rpc.BatchPlanner.Target;
import io.pgstitch.sqlsplit.ClientEncoding;
import io.pgstitch.sqlsplit.SplitMode;

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
 * <p>What lives on past a step: a portal bound from an RPC statement that is read at a Flush, or with a row limit
 * in a transaction block, and a cursor declared over an RPC call, live on the RPC connection the session keeps
 * ({@link KeptConnection}); the router sends what refers to them there (Execute, Describe and Close of the
 * portal, FETCH, MOVE and CLOSE of the cursor), and while that connection is kept it holds every request, so
 * that the end of the session's block ends the kept connection's before the client hears of it; a SAVEPOINT,
 * RELEASE, ROLLBACK TO or COMMIT sent meanwhile, as a Query or with Parse/Bind/Execute (PgJDBC's
 * {@code setSavepoint()}, {@code commit()}), is followed there ({@link StitchStep.OnKept}). A PREPARE of an RPC
 * call runs in the session (it only parses) and is remembered: each EXECUTE of it runs on an RPC connection
 * with the PREPARE replayed first. A statement whose effect would stay on the RPC connection (a temporary
 * table, a cursor WITH HOLD, set_config) is refused by name. {@link TransactionWatch} follows the session
 * backend's answers, so that an RPC call that is the first statement of a block may run.
 *
 * <p>Texts and names are the client's bytes, in its {@code client_encoding}: the router reads them one char
 * per byte (ISO-8859-1), the analyzer lexes them as bytes in that encoding, and a segment is a slice of the
 * original bytes. Nothing is re-encoded, and PostgreSQL alone judges whether the bytes are valid. In a session
 * whose encoding pgstitch does not know, Query and Parse texts go to the session backend untouched.
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

    /**
     * A plan ready to run, with what a stitched request needs of the session's RPC state. The caller owns its
     * steps until the request takes them.
     */
    public static final class Plan {
        private final List<StitchStep> steps;
        private final TransactionWatch watch;
        private final KeptConnection kept;

        private Plan(List<StitchStep> steps, TransactionWatch watch, KeptConnection kept) {
            this.steps = steps;
            this.watch = watch;
            this.kept = kept;
        }

        List<StitchStep> steps() {
            return steps;
        }

        TransactionWatch watch() {
            return watch;
        }

        KeptConnection kept() {
            return kept;
        }

        public void release() {
            steps.forEach(StitchStep::release);
        }
    }

    private final RpcSettings settings;
    private final ByteBufAllocator alloc;
    private final Map<String, RpcStatement> rpcStatements = new HashMap<>();
    /** Portal name to the RPC statement it was bound from, in the batch under way; portals that live on are kept's. */
    private final Map<String, RpcStatement> rpcPortals = new HashMap<>();
    private final RpcStatementReader statements;
    private final FollowedStatements followed;
    private final SessionEncoding sessionEncoding = new SessionEncoding();
    private final TransactionWatch watch = new TransactionWatch();
    private final KeptConnection kept = new KeptConnection();
    private final QueryPlanner queries;
    private final BatchPlanner batches;
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
        this.queries = new QueryPlanner(settings, alloc, kept, watch);
        this.batches = new BatchPlanner(settings, alloc, kept, queries, watch);
        this.statements = new RpcStatementReader(settings, kept, queries);
        this.followed = new FollowedStatements(settings);
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
        if (rpcStatements.isEmpty() && rpcPortals.isEmpty() && !kept.active()
                && (type == Bind.TYPE || type == Describe.TYPE || type == Execute.TYPE || type == Close.TYPE)) {
            // Nothing refers to an RPC statement yet: no need to read the names (pgbench -M prepared's hot path).
            return session(frame, type == Execute.TYPE);
        }
        return switch (type) {
            case Query.TYPE -> query(frame, standardConformingStrings, clientEncoding);
            case Parse.TYPE -> {
                Parse parse = Parse.decodeWith(frame.body(), StandardCharsets.ISO_8859_1);
                followed.forgetStatement(parse.statement());
                ClientEncoding encoding = sessionEncoding.of(clientEncoding);
                RpcStatement statement = statements.read(parse, frame.content(), encoding, standardConformingStrings);
                if (statement != null && statement.prepare() != null && statement.parseMessage() == null) {
                    // a PREPARE of an RPC call: it runs in the session, whose answer the plan must see
                    rpcStatements.remove(parse.statement());
                    yield hold(frame, Target.SESSION, null, false, null, null, 0, new Registration(statement.name(),
                            new QueryPlanner.PreparedCall(statement.function(), statement.prepare())));
                }
                if (statement != null) {
                    rpcStatements.put(parse.statement(), statement);
                    yield hold(frame, Target.RPC, statement, false, null, null, 0);
                }
                rpcStatements.remove(parse.statement());
                yield following(frame, false,
                        followed.parsed(parse.statement(), parse.query(), encoding, standardConformingStrings));
            }
            case Bind.TYPE -> {
                Bind.decodeNames(frame.body()); // checks the layout; the names are read below, byte for byte
                String portal = name(frame.body(), 0);
                String boundFrom = name(frame.body(), portal.length() + 1);
                RpcStatement statement = rpcStatements.get(boundFrom);
                followed.forgetPortal(portal);
                if (statement != null) {
                    rpcPortals.put(portal, statement);
                    yield hold(frame, Target.RPC, statement, false, portal, null, 0);
                }
                rpcPortals.remove(portal);
                kept.remove(portal); // the client's next use of the name means the session's portal
                yield following(frame, false, followed.bound(portal, boundFrom));
            }
            case Describe.TYPE -> {
                Describe describe = Describe.decode(frame.body());
                String name = name(frame.body(), 1);
                if (describe.target() == Describe.Target.STATEMENT) {
                    RpcStatement statement = rpcStatements.get(name);
                    yield statement != null ? hold(frame, Target.RPC, statement, false, null, null, 0)
                            : following(frame, false, followed.statement(name));
                }
                yield portalMessage(frame, name, false, 0);
            }
            case Execute.TYPE -> {
                Execute execute = Execute.decode(frame.body());
                yield portalMessage(frame, name(frame.body(), 0), true, execute.maxRows());
            }
            case Close.TYPE -> {
                Close close = Close.decode(frame.body());
                String name = name(frame.body(), 1);
                if (close.target() == Describe.Target.STATEMENT) {
                    // Closing what exists only here needs no RPC connection: PostgreSQL answers CloseComplete for
                    // a name it does not know, so the session backend can answer it.
                    rpcStatements.remove(name);
                    followed.forgetStatement(name);
                    yield session(frame, false);
                }
                followed.forgetPortal(name);
                yield portalMessage(frame, name, false, 0);
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
            default -> held != null || kept.active() ? hold(frame, Target.SESSION, null, false, null, null, 0)
                    : Routing.PASS;
        };
    }

    /**
     * A Describe, Execute or Close of portal {@code name}: on the connection of the RPC statement it was bound
     * from in this batch, on the kept connection where it lives on, or on the session backend.
     */
    private Routing portalMessage(Frame frame, String name, boolean execute, int maxRows) {
        RpcStatement statement = rpcPortals.get(name);
        if (statement != null) {
            return hold(frame, Target.RPC, statement, execute, name, null, maxRows);
        }
        if (kept.function(name) != null) {
            return hold(frame, Target.RPC, null, execute, name, name, maxRows);
        }
        return following(frame, execute, followed.portal(name));
    }

    /**
     * A message for the session backend that belongs to a SAVEPOINT, RELEASE, ROLLBACK TO or COMMIT the kept
     * connection follows ({@code follow}, or null when it belongs to none): while a block is kept it is held with
     * {@code follow}, so that the plan has the kept connection follow it as it follows the statement sent as a
     * Query (PgJDBC sends these with Parse/Bind/Execute).
     */
    private Routing following(Frame frame, boolean execute, StitchStep.OnKept follow) {
        if (follow == null || !kept.inBlock()) {
            return session(frame, execute);
        }
        return hold(frame, Target.SESSION, null, execute, null, null, 0, null, follow);
    }

    /**
     * Takes note of one frame of the session backend's answer to the client's own request (borrowed): the
     * answers tell whether the session's transaction block has only just begun.
     */
    public void observe(Frame frame) {
        watch.observe(frame);
    }

    /** Whether the plan of the last {@link Routing#READY} ends with a ReadyForQuery for the client. */
    public boolean planAnswersSync() {
        return planAnswersSync;
    }

    /** The plan made by the last {@link Routing#READY}; the caller owns it from now on. */
    public Plan takePlan() {
        List<StitchStep> taken = Objects.requireNonNull(plan, "no plan is ready");
        plan = null;
        return new Plan(taken, watch, kept);
    }

    /** Releases whatever is held and the kept RPC connection: the client left. */
    public void release() {
        kept.release();
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
            return hold(frame, Target.SESSION, null, false, null, null, 0);
        }
        boolean insideBatch = unsynced;
        unsynced = false; // a Query ends whatever implicit transaction unsynced messages had opened
        ClientEncoding encoding = sessionEncoding.of(clientEncoding);
        if (encoding == null || insideBatch) {
            // Inside an extended batch, PostgreSQL discards the Query unanswered if a message before it failed,
            // which only the session backend can tell: the Query is its, as it is, RPC calls included.
            return Routing.PASS;
        }
        String bytes = Query.decodeWith(frame.body(), StandardCharsets.ISO_8859_1).sql();
        List<StitchStep> steps = queries.plan(bytes, encoding, standardConformingStrings);
        if (steps == null) {
            return Routing.PASS;
        }
        frame.release();
        plan = steps;
        planAnswersSync = true;
        return Routing.READY;
    }

    /**
     * The NUL-terminated name at {@code index} of {@code body} (whose layout was checked), one char per byte:
     * names compare byte for byte, as PostgreSQL compares them, whatever the encoding.
     */
    private static String name(ByteBuf body, int index) {
        int end = body.indexOf(index, body.writerIndex(), (byte) 0);
        return body.toString(index, end - index, StandardCharsets.ISO_8859_1);
    }

    /**
     * A message for the session backend: forwarded, unless the batch is held (or must be, for split: always, or
     * while a connection is kept).
     */
    private Routing session(Frame frame, boolean execute) {
        if (held == null && !kept.active() && !(settings.split() == SplitMode.ALWAYS && executeSinceSync)) {
            unsynced = true;
            executeSinceSync |= execute;
            return Routing.PASS;
        }
        return hold(frame, Target.SESSION, null, execute, null, null, 0);
    }

    private Routing hold(Frame frame, Target target, RpcStatement statement, boolean execute, String portal,
                         String continues, int maxRows) {
        return hold(frame, target, statement, execute, portal, continues, maxRows, null);
    }

    private Routing hold(Frame frame, Target target, RpcStatement statement, boolean execute, String portal,
                         String continues, int maxRows, Registration registers) {
        return hold(frame, target, statement, execute, portal, continues, maxRows, registers, null);
    }

    private Routing hold(Frame frame, Target target, RpcStatement statement, boolean execute, String portal,
                         String continues, int maxRows, Registration registers, StitchStep.OnKept follow) {
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
        held.add(new Held(frame.content(), target, statement, execute, portal, continues, maxRows, registers,
                follow));
        executeSinceSync |= execute;
        return Routing.HELD;
    }

    private Routing sync(Frame frame) {
        if (held == null && !kept.active()) {
            rpcPortals.clear();
            followed.clearPortals();
            executeSinceSync = false;
            unsynced = false;
            return Routing.PASS;
        }
        frame.release();
        if (held == null) { // the kept connection may owe a Sync, which the request sends before it answers
            held = new ArrayList<>();
            heldAfterForwarded = unsynced;
            unsynced = false;
        }
        return runHeld(true);
    }

    /** Plans the held batch; its portals end with its segments, or live on on the kept connection. */
    private Routing runHeld(boolean answersSync) {
        rpcPortals.clear();
        followed.clearPortals();
        executeSinceSync = false;
        plan = batches.plan(held, heldAfterForwarded, !answersSync);
        planAnswersSync = answersSync;
        held = null;
        return Routing.READY;
    }
}
