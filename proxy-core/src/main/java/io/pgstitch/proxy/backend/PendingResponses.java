package io.pgstitch.proxy.backend;

import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.FrontendMessageType;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;
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
 * <p>Backend's event loop only: messages are recorded as they are written and frames as they are read, so at
 * any instant this says exactly what the backend still owes, which decides whether it can go back to the pool.
 */
final class PendingResponses {

    private static final class Request {
        ResponseTarget owner;
        boolean synced;
        /** The message that synced it: a Sync, or a Query or FunctionCall. */
        byte syncedBy;
        List<Runnable> whenAnswered;

        Request(ResponseTarget owner) {
            this.owner = owner;
        }
    }

    private final ArrayDeque<Request> requests = new ArrayDeque<>();
    private final ResponseTarget idleTarget;
    private TransactionStatus status;
    private boolean copyIn;

    /** @param idleTarget receives frames that arrive while nothing is owed (an unsolicited FATAL, a notice) */
    PendingResponses(TransactionStatus initial, ResponseTarget idleTarget) {
        this.status = initial;
        this.idleTarget = idleTarget;
    }

    /** A message of {@code type} is being written to the backend on behalf of {@code owner}. */
    void sent(byte type, ResponseTarget owner) {
        if (type == 'd' || type == 'c' || type == 'f') {
            copyIn &= type == 'd'; // CopyDone and CopyFail end copy-in mode
            return; // part of the request that started the COPY
        }
        if (copyIn && (type == 'S' || type == 'H')) {
            return; // "the backend will ignore Flush and Sync messages received during copy-in mode"
        }
        Request open = requests.peekLast();
        if (open == null || open.synced) {
            open = new Request(owner);
            requests.addLast(open);
        } else {
            open.owner = owner;
        }
        open.synced = FrontendMessageType.isAnsweredByReadyForQuery(type);
        open.syncedBy = type;
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
            case 'G' -> {
                copyIn = true;
                if (head != null && head.synced && head.syncedBy == 'S') {
                    // the COPY's Execute was followed by its Sync before this was read: the backend reads that Sync
                    // in copy-in mode and ignores it; the client's next Sync, after CopyDone, ends the request
                    head.synced = false;
                }
            }
            default -> {
            }
        }
        return head == null ? idleTarget : head.owner;
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

    /** How the backend can be given back now that its user has left. */
    BackendPool.Release release() {
        Request open = requests.peekLast();
        if (copyIn || (open != null && !open.synced)) {
            return BackendPool.Release.DIRTY;
        }
        if (!requests.isEmpty()) {
            return BackendPool.Release.BUSY;
        }
        // a client that left inside a transaction block (psycopg2's Terminate does): rolled back, then reused
        return status == TransactionStatus.IDLE ? BackendPool.Release.CLEAN : BackendPool.Release.IN_TRANSACTION;
    }
}
