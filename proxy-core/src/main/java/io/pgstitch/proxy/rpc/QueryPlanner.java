package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.sqlsplit.ClientEncoding;
import io.pgstitch.sqlsplit.QueryAnalysis;
import io.pgstitch.sqlsplit.Segment;
import io.pgstitch.sqlsplit.SplitMode;
import io.pgstitch.sqlsplit.SqlStatement;
import io.pgstitch.sqlsplit.StatementKind;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts a Query text into steps, knowing what the session's earlier RPC statements left behind: its SQL-level
 * prepared RPC calls and the cursors on its {@link KeptConnection}. A statement that calls an RPC function, one
 * that EXECUTEs a prepared RPC call (also under EXPLAIN or CREATE TABLE AS), a FETCH, MOVE or CLOSE of a kept
 * cursor, and the DEALLOCATE or DISCARD ALL that forgets a prepared call each make a step of their own; so do,
 * while a block is kept, what the kept connection must follow ({@link StitchStep.OnKept}: CLOSE ALL, SAVEPOINT,
 * RELEASE, ROLLBACK TO, COMMIT); runs of the others stay one Query on the session backend. Session loop only.
 */
final class QueryPlanner {

    /** An SQL-level PREPARE of an RPC call: its function and its text (the client's bytes, one char per byte). */
    record PreparedCall(String function, String prepareText) {
    }

    private final RpcSettings settings;
    private final ByteBufAllocator alloc;
    private final KeptConnection kept;
    private final TransactionWatch watch;
    private final Map<String, PreparedCall> prepared = new HashMap<>();

    QueryPlanner(RpcSettings settings, ByteBufAllocator alloc, KeptConnection kept, TransactionWatch watch) {
        this.settings = settings;
        this.alloc = alloc;
        this.kept = kept;
        this.watch = watch;
    }

    boolean remembersPrepared() {
        return !prepared.isEmpty();
    }

    /** The prepared RPC call of that SQL name, or null. */
    PreparedCall prepared(String name) {
        return prepared.get(name);
    }

    void remember(String name, PreparedCall call) {
        prepared.put(name, call);
    }

    /**
     * The steps of a Query text, or null when it goes to the session backend untouched.
     *
     * @param bytes the text as the client's bytes, one char per byte
     */
    List<StitchStep> plan(String bytes, ClientEncoding encoding, boolean standardConformingStrings) {
        SplitMode split = settings.split();
        boolean remembered = kept.active() || !prepared.isEmpty(); // names the fast path cannot see
        if (split != SplitMode.ALWAYS && !remembered
                && !settings.analyzer().mayContainRpcCall(bytes, encoding, standardConformingStrings)) {
            return null; // the fast path: no word that could name an RPC function
        }
        QueryAnalysis analysis = settings.analyzer().analyze(bytes, encoding, standardConformingStrings);
        List<SqlStatement> statements = analysis.statements();
        boolean apart = statements.stream().anyMatch(this::apart);
        boolean cut = switch (split) {
            case RPC_ONLY -> apart;
            case ALWAYS -> statements.size() > 1 || apart;
            case NEVER -> statements.size() == 1 && apart;
        };
        List<StitchStep> steps = new ArrayList<>();
        if (!cut) {
            if (!kept.active()) {
                return null;
            }
            // while a connection is kept, the end of the session's block must be seen before the client is answered
            steps.add(new StitchStep.OnSession(List.of(query(bytes))));
            return steps;
        }
        int counted = 0;
        int characters = 0;
        for (Segment segment : analysis.segments(split, this::apart)) {
            // a slice of the client's bytes, written back byte for byte, whose errors count from its own start
            String text = segment.text(bytes);
            characters += encoding.characters(bytes, counted, segment.start());
            counted = segment.start();
            if (characters > 0) {
                steps.add(new StitchStep.At(characters));
            }
            if (segment.rpc()) {
                steps.addAll(apartSteps(segment.statements().get(0), text));
            } else {
                steps.add(new StitchStep.OnSession(List.of(query(text))));
            }
        }
        return steps;
    }

    /** Whether a statement runs elsewhere than in a run of the session's statements. */
    private boolean apart(SqlStatement statement) {
        if (statement.hasRpcCall()) {
            // SET takes no expressions: PostgreSQL refuses the call there with its own syntax error
            return statement.kind() != StatementKind.SET && statement.kind() != StatementKind.RESET;
        }
        if (statement.executes() != null && prepared.containsKey(statement.executes())) {
            return true;
        }
        return switch (statement.kind()) {
            case FETCH -> statement.name() != null && kept.function(statement.name()) != null;
            case CLOSE -> statement.name() == null ? kept.hasNames() : kept.function(statement.name()) != null;
            case TRANSACTION_CONTROL -> kept.inBlock() && follows(statement) != null;
            case DEALLOCATE -> statement.name() == null ? !prepared.isEmpty() : prepared.containsKey(statement.name());
            case DISCARD -> !prepared.isEmpty() && "all".equals(statement.name());
            default -> false;
        };
    }

    /** What the kept connection does to follow a transaction-control statement of the session, or null. */
    static StitchStep.OnKept.Follows follows(SqlStatement statement) {
        return switch (statement.transaction()) {
            case SAVEPOINT -> StitchStep.OnKept.Follows.SAVEPOINT;
            case RELEASE_SAVEPOINT -> StitchStep.OnKept.Follows.RELEASE;
            case ROLLBACK_TO_SAVEPOINT -> StitchStep.OnKept.Follows.ROLLBACK_TO;
            case COMMIT -> StitchStep.OnKept.Follows.COMMIT;
            default -> null;
        };
    }

    /** The steps of a statement that {@link #apart} accepted, {@code text} being its bytes. */
    private List<StitchStep> apartSteps(SqlStatement statement, String text) {
        if (statement.kind() == StatementKind.TRANSACTION_CONTROL) {
            StitchStep.OnKept.Follows follows = follows(statement);
            StitchStep.OnKept follow = new StitchStep.OnKept(follows, statement.name());
            if (follows == StitchStep.OnKept.Follows.COMMIT) { // first, so that its failure is the client's
                return List.of(follow, new StitchStep.OnSession(List.of(query(text))));
            }
            // ROLLBACK TO answers as ROLLBACK does: the block goes on, the kept connection's with it
            Runnable goesOn = follows == StitchStep.OnKept.Follows.ROLLBACK_TO ? () -> kept.goesOn(watch.blockEnds())
                    : null;
            return List.of(new StitchStep.OnSession(List.of(query(text)), false, goesOn), follow);
        }
        if (statement.kind() == StatementKind.CLOSE && statement.name() == null) { // CLOSE ALL: both close
            return List.of(new StitchStep.OnSession(List.of(query(text))),
                    new StitchStep.OnKept(StitchStep.OnKept.Follows.CLOSE_ALL, null));
        }
        return List.of(apartStep(statement, text));
    }

    /** The step of a statement that {@link #apart} accepted, other than what {@link #apartSteps} makes. */
    private StitchStep apartStep(SqlStatement statement, String text) {
        String name = statement.name();
        PreparedCall executed = statement.executes() == null ? null : prepared.get(statement.executes());
        if (executed != null && !statement.hasRpcCall()) { // as EXECUTE of it: where calls run, PREPARE replayed
            if (statement.sessionEffect() != null) {
                return new StitchStep.Refused(executed.function(), refusal(executed.function(),
                        statement.sessionEffect()), List.of(query(text)));
            }
            return new StitchStep.OnRpc(executed.function(), List.of(query(text)), 0, 0,
                    List.of(query(executed.prepareText())), StitchStep.Lifetime.CALL);
        }
        switch (statement.kind()) {
            case FETCH, CLOSE -> {
                if (!statement.hasRpcCall()) {
                    boolean close = statement.kind() == StatementKind.CLOSE;
                    return new StitchStep.OnRpc(kept.function(name), List.of(query(text)), 0, 0, List.of(),
                            new StitchStep.Lifetime(name, null, close ? name : null, List.of(), true, false, false));
                }
            }
            case DEALLOCATE, DISCARD -> {
                if (!statement.hasRpcCall()) {
                    return new StitchStep.OnSession(List.of(query(text)), false, name == null || "all".equals(name)
                            ? prepared::clear : () -> prepared.remove(name));
                }
            }
            case PREPARE -> {
                // it only parses: it runs in the session, and each EXECUTE of it on an RPC connection
                String function = RpcStatementReader.firstCall(List.of(statement));
                return new StitchStep.OnSession(List.of(query(text)), false,
                        () -> remember(name, new PreparedCall(function, text)));
            }
            default -> {
            }
        }
        String function = RpcStatementReader.firstCall(List.of(statement));
        if (statement.sessionEffect() != null) {
            return new StitchStep.Refused(function, refusal(function, statement.sessionEffect()),
                    List.of(query(text)));
        }
        if (statement.kind() == StatementKind.DECLARE) {
            return new StitchStep.OnRpc(function, List.of(query(text)), 0, 0, List.of(),
                    new StitchStep.Lifetime(null, name, null, List.of(), true, false, false));
        }
        return new StitchStep.OnRpc(function, List.of(query(text)), 0, 0);
    }

    /** The error refusing an RPC call in a statement whose effect would stay on the RPC connection. */
    static PgException refusal(String function, String effect) {
        return PgException.error(SqlState.FEATURE_NOT_SUPPORTED, "RPC function " + function
                        + " cannot run in a statement that " + effect)
                .withHint("pgstitch runs a statement that calls an RPC function on a separate connection, so what"
                        + " the statement leaves in the session would be left there instead. Call the function in a"
                        + " statement of its own.");
    }

    private ByteBuf query(String bytes) {
        return query(alloc, bytes);
    }

    /** A Query of the client's bytes (one char per byte), written back byte for byte. */
    static ByteBuf query(ByteBufAllocator alloc, String bytes) {
        return new Query(bytes).encodeWith(alloc, StandardCharsets.ISO_8859_1);
    }

}
