package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.frontend.Bind;
import io.pgstitch.protocol.frontend.Close;
import io.pgstitch.protocol.frontend.Parse;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.sqlsplit.SplitMode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Cuts a held extended-protocol batch into steps, exactly like a multi-statement Query: runs of the session's
 * messages end with a Sync of the proxy's; each RPC statement's messages (its Parse replayed under the client's
 * own name when the batch did not send it, its statement closed at the end) make a step of their own, and so do
 * the messages that go on with a portal living on the {@link KeptConnection}. The Parse, Bind, Describe and
 * Execute of a SAVEPOINT, RELEASE, ROLLBACK TO or COMMIT that the kept connection follows
 * ({@link StitchStep.OnKept}) make a session segment of their own, so that the kept connection follows it as it
 * follows one sent as a Query: after it, or, for COMMIT, before its Execute. Session loop only.
 */
final class BatchPlanner {

    enum Target { SESSION, RPC }

    /**
     * @param parseMessage the client's Parse message, byte for byte, to replay on an RPC connection; null for
     *                     a Parse of {@code PREPARE name AS <RPC call>}, which runs in the session ({@code name}
     *                     is then the SQL name, {@code prepare} the PREPARE's text)
     * @param prepare      for an {@code EXECUTE} of an SQL-level prepared RPC call, the PREPARE to replay before
     *                     it (the client's bytes, one char per byte); null otherwise
     * @param declares     for a {@code DECLARE ... CURSOR}, the cursor; null otherwise
     * @param effect       what the statement would leave on the RPC connection, lost to the session: its
     *                     Execute is refused; null otherwise
     * @param continues    for a FETCH, MOVE or CLOSE of a cursor on the kept connection, the cursor; null otherwise
     * @param closes       it is a CLOSE of {@code continues}
     */
    record RpcStatement(String name, byte[] parseMessage, String function, String prepare, String declares,
                        String effect, String continues, boolean closes) {
    }

    /** A PREPARE of an RPC call sent with the extended protocol: remembered once the session has run it. */
    record Registration(String name, QueryPlanner.PreparedCall call) {
    }

    /**
     * A held message; {@code statement} is the RPC statement an RPC message belongs to, as it was when the message
     * arrived (a later Parse may reuse the name); {@code portal} the portal a Bind, Describe, Execute or Close
     * names; {@code continues} the portal on the kept connection it goes on with, or null; {@code follow} what
     * the kept connection does to follow the session's statement whose message this is (a Parse, Bind, Describe
     * or Execute of SAVEPOINT, RELEASE, ROLLBACK TO or COMMIT, while a block is kept), or null: the messages of
     * one such statement carry the same instance.
     */
    record Held(ByteBuf message, Target target, RpcStatement statement, boolean execute, String portal,
                        String continues, int maxRows, Registration registers, StitchStep.OnKept follow) {

        byte type() {
            return message.getByte(message.readerIndex());
        }
    }

    private final RpcSettings settings;
    private final ByteBufAllocator alloc;
    private final KeptConnection kept;
    private final QueryPlanner queries;
    private final TransactionWatch watch;

    BatchPlanner(RpcSettings settings, ByteBufAllocator alloc, KeptConnection kept, QueryPlanner queries,
                 TransactionWatch watch) {
        this.settings = settings;
        this.alloc = alloc;
        this.kept = kept;
        this.queries = queries;
        this.watch = watch;
    }

    /**
     * The steps of a held batch.
     *
     * @param afterForwarded messages of the batch went to the session backend before it was held: the proxy's
     *                       Sync ends them first, even if they failed
     * @param flushed        the batch runs at a client's Flush, its Sync still to come
     */
    List<StitchStep> plan(List<Held> batch, boolean afterForwarded, boolean flushed) {
        List<StitchStep> steps = new ArrayList<>();
        if (afterForwarded) {
            steps.add(new StitchStep.OnSession(List.of(Sync.INSTANCE.encode(alloc)), true));
        }
        List<Held> segment = new ArrayList<>();
        for (Held message : batch) {
            if (!segment.isEmpty() && startsSegment(segment, message)) {
                addSteps(steps, segment, flushed);
                segment = new ArrayList<>();
            }
            segment.add(message);
        }
        if (!segment.isEmpty()) {
            addSteps(steps, segment, flushed);
        }
        return steps;
    }

    private void addSteps(List<StitchStep> steps, List<Held> segment, boolean flushed) {
        if (segment.get(0).follow() != null) {
            steps.addAll(followedSteps(segment));
        } else {
            steps.add(step(segment, flushed));
        }
    }

    /**
     * The steps of the messages of one transaction-control statement the kept connection follows, as
     * {@link QueryPlanner} makes them for the statement sent as a Query: the session's, then the kept
     * connection's; for COMMIT the kept connection's first, before the session's Execute (so that a failure there
     * is the client's, and the session's block is rolled back), its Parse and Bind still answered before, as
     * PostgreSQL answers them before it fails the Execute. Without an Execute nothing is followed.
     */
    private List<StitchStep> followedSteps(List<Held> segment) {
        StitchStep.OnKept follow = segment.get(0).follow();
        int execute = 0;
        while (execute < segment.size() && !segment.get(execute).execute()) {
            execute++;
        }
        if (execute == segment.size()) {
            return List.of(transactionStep(segment, null));
        }
        if (follow.follows() == StitchStep.OnKept.Follows.COMMIT) {
            List<StitchStep> steps = new ArrayList<>(3);
            if (execute > 0) { // in a block a Sync leaves the portal bound: the Execute finds it after
                steps.add(transactionStep(segment.subList(0, execute), null));
            }
            steps.add(follow);
            steps.add(transactionStep(segment.subList(execute, segment.size()), null));
            return steps;
        }
        // ROLLBACK TO answers as ROLLBACK does: the block goes on, the kept connection's with it
        Runnable goesOn = follow.follows() == StitchStep.OnKept.Follows.ROLLBACK_TO
                ? () -> kept.goesOn(watch.blockEnds()) : null;
        return List.of(transactionStep(segment, goesOn), follow);
    }

    private StitchStep.OnSession transactionStep(List<Held> part, Runnable whenSucceeded) {
        List<ByteBuf> messages = new ArrayList<>(part.size() + 1);
        part.forEach(message -> messages.add(message.message()));
        messages.add(Sync.INSTANCE.encode(alloc));
        return new StitchStep.OnSession(messages, false, whenSucceeded, true);
    }

    private boolean startsSegment(List<Held> segment, Held next) {
        Held first = segment.get(0);
        boolean executed = segment.stream().anyMatch(Held::execute);
        if (first.follow() != null || next.follow() != null) {
            // a statement the kept connection follows is a segment of its own; a new Parse or Bind after its
            // Execute is another statement (PgJDBC binds its prepared COMMIT again and again)
            return first.follow() != next.follow()
                    || executed && (next.type() == Parse.TYPE || next.type() == Bind.TYPE);
        }
        if (first.target() != next.target()) {
            return true;
        }
        if (first.target() == Target.SESSION) {
            return executed && settings.split() == SplitMode.ALWAYS;
        }
        if (first.continues() != null || next.continues() != null) {
            return !Objects.equals(first.continues(), next.continues());
        }
        if (first.statement() != next.statement()) {
            return true;
        }
        // after an Execute a new Parse or Bind is a new call; what names a portal of this segment stays with it
        return executed && (next.type() == Parse.TYPE || next.type() == Bind.TYPE || next.portal() == null
                || segment.stream().noneMatch(message -> message.type() == Bind.TYPE
                        && next.portal().equals(message.portal())));
    }

    private StitchStep step(List<Held> segment, boolean flushed) {
        List<ByteBuf> messages = new ArrayList<>(segment.size() + 2);
        Held first = segment.get(0);
        if (first.target() == Target.SESSION) {
            segment.forEach(message -> messages.add(message.message()));
            messages.add(Sync.INSTANCE.encode(alloc));
            List<Registration> registrations = segment.stream().map(Held::registers).filter(Objects::nonNull).toList();
            return new StitchStep.OnSession(messages, false, registrations.isEmpty()
                    || segment.stream().noneMatch(Held::execute) ? null
                    : () -> registrations.forEach(each -> queries.remember(each.name(), each.call())));
        }
        boolean executes = segment.stream().anyMatch(Held::execute);
        boolean limited = segment.stream().anyMatch(message -> message.execute() && message.maxRows() > 0);
        String closes = first.statement() != null && first.statement().closes() ? first.statement().continues()
                : segment.stream().filter(message -> message.type() == Close.TYPE).map(Held::portal)
                        .findFirst().orElse(null);
        if (first.continues() != null) { // a portal that lives on the kept connection: nothing to replay
            segment.forEach(message -> messages.add(message.message()));
            return new StitchStep.OnRpc(kept.function(first.continues()), messages, 0, 0, List.of(),
                    new StitchStep.Lifetime(first.continues(), null, closes, List.of(), executes, limited, flushed));
        }
        // One RPC statement per segment, prepared under the client's own name: its messages pass as they came.
        RpcStatement statement = first.statement();
        int injected = 0;
        if (first.type() != Parse.TYPE) {
            messages.add(alloc.buffer(statement.parseMessage().length).writeBytes(statement.parseMessage()));
            injected = 1;
        }
        segment.forEach(message -> messages.add(message.message()));
        int closeStatements = 0;
        if (!statement.name().isEmpty()) { // nothing of the client's stays behind on a pooled connection
            messages.add(closeStatement(statement.name()));
            closeStatements = 1;
        }
        if (statement.effect() != null && executes) {
            return new StitchStep.Refused(statement.function(),
                    QueryPlanner.refusal(statement.function(), statement.effect()), messages);
        }
        List<String> portals = segment.stream().filter(message -> message.type() == Bind.TYPE).map(Held::portal)
                .toList();
        List<ByteBuf> preamble = statement.prepare() == null ? List.of()
                : List.of(QueryPlanner.query(alloc, statement.prepare()));
        return new StitchStep.OnRpc(statement.function(), messages, injected, closeStatements, preamble,
                new StitchStep.Lifetime(statement.continues(), executes ? statement.declares() : null, closes, portals,
                        executes, limited, flushed));
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
