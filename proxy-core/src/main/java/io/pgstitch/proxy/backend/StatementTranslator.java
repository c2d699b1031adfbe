package io.pgstitch.proxy.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ByteProcessor;
import io.pgstitch.protocol.Frame;
import io.pgstitch.proxy.pool.BackendStatements;
import io.pgstitch.proxy.pool.PreparedStatements;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Transaction and statement modes: the client's named prepared statements on a shared backend. A Parse is sent
 * under the statement's backend name (or, when the backend has it already, answered without touching it); a Bind
 * or Describe of a statement the backend lacks is preceded by a Parse of it; a Close frees only the client's name.
 * The answers to what pgstitch added are taken out of the backend's stream, in order, so the client sees exactly
 * the answers its own messages would get from PostgreSQL.
 *
 * <p>Every Parse, Close and synchronising message sent leaves an expectation; answers match them in order. After an
 * ErrorResponse, PostgreSQL skips every message up to the Sync, so the expectations up to it are dropped (and the
 * statements those Parses would have made are forgotten), a Query or FunctionCall among them included; so each
 * run of messages ended by a Sync, Query or FunctionCall counts its extended messages not yet answered, and an
 * ErrorResponse read while the first run has some is theirs, not a Query's. Messages sent after such an error and
 * before the next Sync are skipped too. Backend's loop only, like {@link PendingResponses}.
 */
final class StatementTranslator {

    private enum Expect {
        /** The client's Parse: its ParseComplete goes to the client. */
        CLIENT_PARSE,
        /** A Parse pgstitch added: its ParseComplete is dropped. */
        ADDED_PARSE,
        /** The client's Close: its CloseComplete goes to the client. */
        CLIENT_CLOSE,
        /**
         * A Close pgstitch added (an evicted statement, or another definition under the name): its CloseComplete
         * is dropped. Its server name is the statement closed, which stays on the backend if the Close is skipped.
         */
        ADDED_CLOSE,
        /** The client's Parse of a statement the backend had: a Close of nothing stands in, answered as a Parse. */
        PARSE_ANSWERED_BY_CLOSE,
        /** A Sync: its ReadyForQuery ends what an error skips. */
        SYNC,
        /** A Query or FunctionCall: answered with ReadyForQuery too. */
        QUERY
    }

    private record Expectation(Expect kind, String serverName, String clientName) {
    }

    private static final byte[] PARSE_COMPLETE = {'1', 0, 0, 0, 4};

    private final PreparedStatements client;
    private final BackendStatements backend;
    private final ByteBufAllocator alloc;
    private final ArrayDeque<Expectation> expected = new ArrayDeque<>();
    /**
     * Per run of messages ended by a Sync, Query or FunctionCall, first to last (the last still open): its Parse,
     * Bind, Describe, Execute and Close whose last answer has not been read.
     */
    private final ArrayDeque<int[]> unanswered = new ArrayDeque<>();
    /** An extended message failed and no Sync has been sent since: the backend discards what is sent. */
    private boolean skipping;

    StatementTranslator(PreparedStatements client, BackendStatements backend, ByteBufAllocator alloc) {
        this.client = client;
        this.backend = backend;
        this.alloc = alloc;
        unanswered.add(new int[1]);
    }

    /**
     * What to send for the client's {@code frame}, in order: added messages, then the frame itself or its
     * rewrite. Takes over the frame's content. A continuation, and every message that names no statement,
     * passes as it is.
     */
    List<ByteBuf> outgoing(Frame frame) {
        List<ByteBuf> out = new ArrayList<>(2);
        ByteBuf content = frame.content();
        if (frame.isContinuation()) {
            out.add(content);
            return out;
        }
        switch (frame.type()) {
            case 'P' -> parse(content, out);
            case 'B' -> bind(content, out);
            case 'D' -> describe(content, out);
            case 'C' -> close(content, out);
            case 'S' -> {
                expected.add(new Expectation(Expect.SYNC, null, null));
                out.add(content);
            }
            case 'Q', 'F' -> {
                expected.add(new Expectation(Expect.QUERY, null, null));
                out.add(content);
            }
            default -> out.add(content);
        }
        if (skipping && frame.type() != 'S') {
            skippedUntilSync(); // the backend discards it: nothing it defines or closes happens
            return out;
        }
        skipping = false;
        for (ByteBuf message : out) {
            if (isExtended(message.getByte(message.readerIndex()))) {
                unanswered.peekLast()[0]++;
            }
        }
        if (frame.type() == 'S' || frame.type() == 'Q' || frame.type() == 'F') {
            unanswered.addLast(new int[1]);
        }
        return out;
    }

    private static boolean isExtended(byte type) {
        return type == 'P' || type == 'B' || type == 'D' || type == 'E' || type == 'C';
    }

    /** The last message answering an extended one (as in {@link PendingResponses}). */
    private static boolean endsExtendedAnswer(byte type) {
        return type == '1' || type == '2' || type == '3' || type == 'T' || type == 'n' || type == 'C'
                || type == 'I' || type == 's';
    }

    /** DEALLOCATE ALL or DISCARD ALL ran: neither the client nor the backend has a prepared statement left. */
    void forgetAll() {
        client.clear();
        backend.clear();
    }

    /**
     * What the client gets for a frame the backend sent: the frame, a replacement (the frame is then released),
     * or null when the answer was to a message pgstitch added (the caller still owns the frame).
     */
    Frame incoming(Frame frame) {
        if (frame.isContinuation()) {
            return frame;
        }
        int[] head = unanswered.peekFirst();
        if (head[0] > 0 && endsExtendedAnswer(frame.type())) {
            head[0]--;
        }
        switch (frame.type()) {
            case '1' -> {
                Expectation parse = pollFirst(Expect.CLIENT_PARSE, Expect.ADDED_PARSE);
                if (parse != null && parse.kind() == Expect.ADDED_PARSE) {
                    return null;
                }
            }
            case '3' -> {
                Expectation close = pollFirst(Expect.CLIENT_CLOSE, Expect.ADDED_CLOSE, Expect.PARSE_ANSWERED_BY_CLOSE);
                if (close != null && close.kind() == Expect.ADDED_CLOSE) {
                    return null;
                }
                if (close != null && close.kind() == Expect.PARSE_ANSWERED_BY_CLOSE) {
                    frame.release();
                    return new Frame(alloc.buffer(PARSE_COMPLETE.length).writeBytes(PARSE_COMPLETE));
                }
            }
            case 'E' -> {
                if (head[0] > 0) { // an extended message's error, not a Query's
                    skipping = !skippedUntilSync();
                }
            }
            case 'Z' -> {
                if (unanswered.size() > 1) {
                    unanswered.pollFirst();
                }
                while (!expected.isEmpty()) {
                    Expect kind = expected.pollFirst().kind();
                    if (kind == Expect.SYNC || kind == Expect.QUERY) {
                        break;
                    }
                }
            }
            case 'G' -> { // COPY FROM STDIN: a Sync already sent behind its Execute is ignored by the backend
                Expectation next = expected.peekFirst();
                if (next != null && next.kind() == Expect.SYNC) {
                    expected.pollFirst();
                    if (unanswered.size() > 1) { // the run goes on to the client's next Sync
                        int[] copy = unanswered.pollFirst();
                        unanswered.peekFirst()[0] += copy[0];
                    }
                }
            }
            default -> {
            }
        }
        return frame;
    }

    /**
     * The backend will skip every message up to the next Sync, a Query or FunctionCall included: their answers
     * will never come. Returns whether a Sync was sent to end the skipping.
     */
    private boolean skippedUntilSync() {
        List<String> stillHeld = new ArrayList<>(1);
        boolean synced = false;
        unanswered.peekFirst()[0] = 0;
        for (Iterator<Expectation> it = expected.iterator(); it.hasNext(); ) {
            Expectation next = it.next();
            if (next.kind() == Expect.SYNC) {
                synced = true;
                break;
            }
            it.remove();
            if (next.kind() == Expect.QUERY) {
                if (unanswered.size() > 1) { // discarded: the messages after it up to the Sync are skipped too
                    unanswered.pollFirst();
                    unanswered.peekFirst()[0] = 0;
                }
                continue;
            }
            if (next.kind() == Expect.ADDED_CLOSE) {
                stillHeld.add(next.serverName()); // not closed after all
                continue;
            }
            if (next.serverName() != null) {
                backend.remove(next.serverName()); // failed or never parsed
            }
            if (next.clientName() != null) { // as in PostgreSQL, the client's name was never defined
                client.close(next.clientName());
            }
        }
        stillHeld.forEach(backend::stillHolds);
        return synced;
    }

    private Expectation pollFirst(Expect... kinds) {
        for (Iterator<Expectation> it = expected.iterator(); it.hasNext(); ) {
            Expectation next = it.next();
            if (next.kind() == Expect.SYNC || next.kind() == Expect.QUERY) {
                return null; // out of step: leave the frame alone
            }
            for (Expect kind : kinds) {
                if (next.kind() == kind) {
                    it.remove();
                    return next;
                }
            }
        }
        return null;
    }

    private void parse(ByteBuf content, List<ByteBuf> out) {
        String name = client.define(content);
        if (name == null) { // the unnamed statement (or a malformed message for the server to refuse)
            expected.add(new Expectation(Expect.CLIENT_PARSE, null, null));
            out.add(content);
            return;
        }
        PreparedStatements.Statement statement = client.get(name);
        if (backend.has(statement)) {
            content.release();
            out.add(close(PreparedStatements.ABSENT));
            expected.add(new Expectation(Expect.PARSE_ANSWERED_BY_CLOSE, null, name));
            return;
        }
        content.release();
        prepare(statement, Expect.CLIENT_PARSE, name, out);
    }

    /** Sends a Parse of {@code statement} under its backend name, making room for it first. */
    private void prepare(PreparedStatements.Statement statement, Expect kind, String clientName, List<ByteBuf> out) {
        if (backend.holdsName(statement.serverName())) { // another definition under the same hash
            out.add(close(statement.serverName()));
            expected.add(new Expectation(Expect.ADDED_CLOSE, statement.serverName(), null));
            backend.remove(statement.serverName());
        }
        String evicted = backend.add(statement);
        if (evicted != null) {
            out.add(close(evicted));
            expected.add(new Expectation(Expect.ADDED_CLOSE, evicted, null));
        }
        byte[] name = statement.serverName().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuf parse = alloc.buffer(6 + name.length + statement.definition().length);
        parse.writeByte('P').writeInt(4 + name.length + 1 + statement.definition().length)
                .writeBytes(name).writeByte(0).writeBytes(statement.definition());
        out.add(parse);
        expected.add(new Expectation(kind, statement.serverName(), clientName));
    }

    private void bind(ByteBuf content, List<ByteBuf> out) {
        int portalEnd = content.indexOf(content.readerIndex() + 5, content.writerIndex(), (byte) 0);
        renameStatement(content, portalEnd + 1, out);
    }

    private void describe(ByteBuf content, List<ByteBuf> out) {
        if (content.readableBytes() > 5 && content.getByte(content.readerIndex() + 5) == 'S') {
            renameStatement(content, content.readerIndex() + 6, out);
        } else {
            out.add(content);
        }
    }

    /** Bind and Describe: the statement name at {@code nameStart} becomes its backend name, prepared if need be. */
    private void renameStatement(ByteBuf content, int nameStart, List<ByteBuf> out) {
        int nameEnd = nameStart <= 0 ? -1 : content.forEachByte(nameStart, content.writerIndex() - nameStart,
                ByteProcessor.FIND_NUL);
        if (nameEnd <= nameStart) { // unnamed, or a malformed message the server will refuse
            out.add(content);
            return;
        }
        String name = content.toString(nameStart, nameEnd - nameStart, StandardCharsets.ISO_8859_1);
        PreparedStatements.Statement statement = client.get(name);
        if (statement == null) { // the server answers "does not exist" with the client's own name
            out.add(content);
            return;
        }
        if (!backend.has(statement)) {
            prepare(statement, Expect.ADDED_PARSE, null, out);
        }
        byte[] serverName = statement.serverName().getBytes(StandardCharsets.ISO_8859_1);
        int start = content.readerIndex();
        int delta = serverName.length - (nameEnd - nameStart);
        ByteBuf renamed = alloc.buffer(content.readableBytes() + delta);
        renamed.writeBytes(content, start, nameStart - start)
                .writeBytes(serverName)
                .writeBytes(content, nameEnd, content.writerIndex() - nameEnd);
        renamed.setInt(1, content.getInt(start + 1) + delta);
        content.release();
        out.add(renamed);
    }

    private void close(ByteBuf content, List<ByteBuf> out) {
        expected.add(new Expectation(Expect.CLIENT_CLOSE, null, null));
        int nameStart = content.readerIndex() + 6;
        if (content.readableBytes() <= 6 || content.getByte(content.readerIndex() + 5) != 'S'
                || content.getByte(nameStart) == 0) {
            out.add(content);
            return;
        }
        int nameEnd = content.forEachByte(nameStart, content.writerIndex() - nameStart, ByteProcessor.FIND_NUL);
        if (nameEnd > nameStart) {
            client.close(content.toString(nameStart, nameEnd - nameStart, StandardCharsets.ISO_8859_1));
        }
        content.release();
        out.add(close(PreparedStatements.ABSENT)); // answered CloseComplete; other clients keep the statement
    }

    private ByteBuf close(String serverName) {
        byte[] name = serverName.getBytes(StandardCharsets.ISO_8859_1);
        return alloc.buffer(7 + name.length).writeByte('C').writeInt(4 + 1 + name.length + 1).writeByte('S')
                .writeBytes(name).writeByte(0);
    }
}
