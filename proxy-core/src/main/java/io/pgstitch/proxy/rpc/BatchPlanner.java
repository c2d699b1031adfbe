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
 * the messages that go on with a portal living on the {@link KeptConnection}. Session loop only.
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
     * names; {@code continues} the portal on the kept connection it goes on with, or null.
     */
    record Held(ByteBuf message, Target target, RpcStatement statement, boolean execute, String portal,
                        String continues, int maxRows, Registration registers) {

        byte type() {
            return message.getByte(message.readerIndex());
        }
    }

    private final RpcSettings settings;
    private final ByteBufAllocator alloc;
    private final KeptConnection kept;
    private final QueryPlanner queries;

    BatchPlanner(RpcSettings settings, ByteBufAllocator alloc, KeptConnection kept, QueryPlanner queries) {
        this.settings = settings;
        this.alloc = alloc;
        this.kept = kept;
        this.queries = queries;
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
                steps.add(step(segment, flushed));
                segment = new ArrayList<>();
            }
            segment.add(message);
        }
        if (!segment.isEmpty()) {
            steps.add(step(segment, flushed));
        }
        return steps;
    }

    private boolean startsSegment(List<Held> segment, Held next) {
        Held first = segment.get(0);
        boolean executed = segment.stream().anyMatch(Held::execute);
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
