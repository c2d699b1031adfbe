package io.pgstitch.proxy.backend;

import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.FrontendMessageType;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.proxy.pool.BackendPool;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The one FIFO of what a backend owes: a request per ReadyForQuery to come, each with the {@link ResponseTarget}
 * its answer belongs to. A request opens with the first message sent after the previous one ended, and is
 * synced by the message that the backend answers with ReadyForQuery (Query, Sync, FunctionCall); extended
 * messages sent before their Sync belong to the open request, whose answers (ParseComplete, rows, an error)
 * arrive before the Sync does. When a message of another owner joins an open request (the proxy's own Sync
 * ending messages the client forwarded), the request, and the rest of its answer, passes to that owner.
 *
 * <p>After an error in an extended-protocol message, PostgreSQL discards every message up to the next Sync, a
 * Query or FunctionCall included, and answers only that Sync with ReadyForQuery (postgres.c: ignore_till_sync).
 * So each request counts its extended messages not yet answered: an ErrorResponse read while some are is
 * theirs, and the requests sent after it up to the next Sync merge into it, their whenAnswered callbacks and
 * owner with them; should no Sync have been sent, nothing synced is owed any more and the callbacks run at once.
 *
 * <p>Backend's event loop only: messages are recorded as they are written and frames as they are read, so at
 * any instant this says exactly what the backend still owes, which decides whether it can go back to the pool.
 */
final class PendingResponses {

    private static final class Request {
        ResponseTarget owner;
        boolean synced;
        /** The message that synced it: a Sync, or a Query or FunctionCall. */
        byte syncedBy;
        /** Parse, Bind, Describe, Execute and Close sent whose last answer has not been read. */
        int extendedUnanswered;
        /** One of its extended messages failed: the backend discards what follows up to a Sync. */
        boolean skipping;
        List<Runnable> whenAnswered;
        /**
         * Its first message was sent right after CopyData, before the CopyInResponse was read: if that response
         * comes for the request before it, the backend reads this message as part of the COPY (and fails it).
         */
        boolean afterCopyData;

        Request(ResponseTarget owner) {
            this.owner = owner;
        }
    }

    private final ArrayDeque<Request> requests = new ArrayDeque<>();
    private final ResponseTarget idleTarget;
    private TransactionStatus status;
    private boolean copyIn;
    /** CopyData was sent while copy-in mode was not yet known: the client believes a COPY FROM STDIN runs. */
    private boolean copyDataAhead;

    /** @param idleTarget receives frames that arrive while nothing is owed (an unsolicited FATAL, a notice) */
    PendingResponses(TransactionStatus initial, ResponseTarget idleTarget) {
        this.status = initial;
        this.idleTarget = idleTarget;
    }

    /** A message of {@code type} is being written to the backend on behalf of {@code owner}. */
    void sent(byte type, ResponseTarget owner) {
        if (type == 'd' || type == 'c' || type == 'f') {
            copyIn &= type == 'd'; // CopyDone and CopyFail end copy-in mode
            copyDataAhead = type == 'd' && !copyIn;
            return; // part of the request that started the COPY
        }
        if (copyIn && (type == 'S' || type == 'H')) {
            return; // "the backend will ignore Flush and Sync messages received during copy-in mode"
        }
        if (copyIn) { // "unexpected message type during COPY from stdin": read, it fails the COPY's request
            copyIn = false;
            return;
        }
        Request open = requests.peekLast();
        if (open == null || open.synced) {
            open = new Request(owner);
            open.afterCopyData = copyDataAhead;
            requests.addLast(open);
        } else {
            open.owner = owner;
        }
        if (open.skipping && type != Sync.TYPE) {
            return; // discarded by the backend, answered by nothing
        }
        if (isExtended(type)) {
            open.extendedUnanswered++;
        }
        open.synced = FrontendMessageType.isAnsweredByReadyForQuery(type);
        open.syncedBy = type;
    }

    /** Parse, Bind, Describe, Execute, Close: answered by one last message each, or an error (Flush: nothing). */
    private static boolean isExtended(byte type) {
        return type == 'P' || type == 'B' || type == 'D' || type == 'E' || type == 'C';
    }

    /**
     * The last message of an extended message's answer: ParseComplete, BindComplete, CloseComplete, a Describe's
     * RowDescription or NoData, an Execute's CommandComplete, EmptyQueryResponse or PortalSuspended.
     */
    private static boolean endsExtendedAnswer(byte type) {
        return type == '1' || type == '2' || type == '3' || type == 'T' || type == 'n' || type == 'C'
                || type == 'I' || type == 's';
    }

    /**
     * Who a frame just read belongs to; a ReadyForQuery ends the head request, whose {@code whenAnswered}
     * callbacks are then returned through {@code answered}.
     */
    ResponseTarget targetOf(Frame frame, List<Runnable> answered) {
        Request head = requests.peekFirst();
        switch (frame.type()) {
            case ReadyForQuery.TYPE -> {
                status = ReadyForQuery.decode(frame.body()).status();
                copyIn = false;
                if (head == null) {
                    return idleTarget; // a ReadyForQuery nobody asked for: the caller's violation to report
                }
                requests.pollFirst();
                if (head.whenAnswered != null) {
                    answered.addAll(head.whenAnswered);
                }
                return head.owner;
            }
            case ErrorResponse.TYPE -> {
                copyIn = false; // an error ends copy-in: what the client still sends of the COPY is dropped
                if (head != null && head.extendedUnanswered > 0) {
                    ResponseTarget owner = head.owner; // the error is the failed message's, whoever syncs next
                    discardUntilSync(answered);
                    return owner;
                }
            }
            case 'G' -> {
                copyIn = true;
                copyDataAhead = false;
                swallowedByCopy(head);
                if (head != null && head.synced && head.syncedBy == 'S') {
                    // the COPY's Execute was followed by its Sync before this was read: the backend reads that Sync
                    // in copy-in mode and ignores it; the client's next Sync, after CopyDone, ends the request
                    head.synced = false;
                }
            }
            default -> {
                if (head != null && head.extendedUnanswered > 0 && endsExtendedAnswer(frame.type())) {
                    head.extendedUnanswered--;
                }
            }
        }
        return head == null ? idleTarget : head.owner;
    }

    /**
     * A COPY FROM STDIN began for {@code head}: a Query or FunctionCall the client sent after its CopyData, before
     * this was read, is read by the backend as part of the COPY (which it fails, "unexpected message type"), and is
     * answered by nothing of its own; waiting for it would never end.
     */
    private void swallowedByCopy(Request head) {
        if (head == null || requests.size() < 2) {
            return;
        }
        java.util.Iterator<Request> it = requests.iterator();
        it.next();
        Request next = it.next();
        if (next.afterCopyData && next.synced && next.syncedBy != Sync.TYPE && next.extendedUnanswered == 0) {
            it.remove();
            if (next.whenAnswered != null) {
                if (head.whenAnswered == null) {
                    head.whenAnswered = next.whenAnswered;
                } else {
                    head.whenAnswered.addAll(next.whenAnswered);
                }
            }
        }
    }

    /**
     * The head request's extended message failed: the backend now discards everything up to the next Sync, so
     * the requests up to that Sync become one, ended by the Sync's ReadyForQuery. Without a Sync sent yet, that
     * one request is open and nothing synced is owed: the callbacks waiting for the discarded requests are
     * returned through {@code answered} (each is moved, never copied, so none runs twice).
     */
    private void discardUntilSync(List<Runnable> answered) {
        Request head = requests.pollFirst();
        head.skipping = true;
        head.extendedUnanswered = 0;
        head.synced &= head.syncedBy == Sync.TYPE; // a Query or FunctionCall of its own is discarded
        while (!head.synced && !requests.isEmpty()) {
            Request next = requests.pollFirst();
            head.owner = next.owner;
            head.synced = next.synced && next.syncedBy == Sync.TYPE;
            head.syncedBy = next.syncedBy;
            if (next.whenAnswered != null) {
                if (head.whenAnswered == null) {
                    head.whenAnswered = next.whenAnswered;
                } else {
                    head.whenAnswered.addAll(next.whenAnswered);
                }
            }
        }
        requests.addFirst(head);
        if (!head.synced && head.whenAnswered != null) {
            answered.addAll(head.whenAnswered);
            head.whenAnswered = null;
        }
    }

    /**
     * Runs {@code callback} (through {@code answered}) once every synced request sent so far is answered; an
     * open request, whose Sync has not been sent, is not waited for: it may never be.
     *
     * @return true when nothing is owed and the callback should run now
     */
    boolean whenAnswered(Runnable callback) {
        Request last = null;
        for (Request request : requests) {
            if (request.synced) {
                last = request;
            }
        }
        if (last == null) {
            return true;
        }
        if (last.whenAnswered == null) {
            last.whenAnswered = new ArrayList<>(2);
        }
        last.whenAnswered.add(callback);
        return false;
    }

    TransactionStatus status() {
        return status;
    }

    /** ReadyForQuery messages the backend still owes. */
    int owed() {
        int owed = 0;
        for (Request request : requests) {
            if (request.synced) {
                owed++;
            }
        }
        return owed;
    }

    /** Nothing owed, no COPY, no transaction block: the backend could serve another client as it is. */
    boolean idle() {
        return requests.isEmpty() && !copyIn && status == TransactionStatus.IDLE;
    }

    /**
     * How the backend can be given back now that its user has left. An extended message not yet answered in a
     * request that a Query or FunctionCall ends might still fail, and then the backend would wait for a Sync and
     * owe fewer ReadyForQuery than counted: such a backend is closed, not drained.
     */
    BackendPool.Release release() {
        Request open = requests.peekLast();
        if (copyIn || (open != null && !open.synced)) {
            return BackendPool.Release.DIRTY;
        }
        for (Request request : requests) {
            if (request.extendedUnanswered > 0 && request.syncedBy != Sync.TYPE) {
                return BackendPool.Release.DIRTY;
            }
        }
        if (!requests.isEmpty()) {
            return BackendPool.Release.BUSY;
        }
        // a client that left inside a transaction block (psycopg2's Terminate does): rolled back, then reused
        return status == TransactionStatus.IDLE ? BackendPool.Release.CLEAN : BackendPool.Release.IN_TRANSACTION;
    }
}
