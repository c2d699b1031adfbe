package io.pgstitch.proxy.session;

import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.FrontendMessageType;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;
import io.pgstitch.proxy.pool.BackendPool;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Knows, from the frames relayed both ways, what state a backend is in: how many ReadyForQuery it still owes
 * (one per Query, FunctionCall and Sync), whether extended-protocol messages were sent without their Sync,
 * whether a COPY FROM STDIN is waiting for data, and the last transaction status. That decides whether the
 * backend can go back to the pool when its client leaves. Only type bytes are looked at, except ReadyForQuery.
 *
 * <p>Threads: {@link #sent} runs on the session's loop, {@link #fromBackend} on the backend's loop as
 * the frame is read (before it is handed to the session), and {@link #release} on the backend's loop too. So
 * at release, every ReadyForQuery not yet counted is still unread and will reach whoever takes the backend.
 */
final class RequestTracker {

    private final AtomicInteger requestsSent = new AtomicInteger();
    private volatile boolean unsynced;
    private int readyForQuerySeen;
    private boolean copyIn;
    private volatile TransactionStatus status;

    RequestTracker(TransactionStatus initial) {
        this.status = initial;
    }

    /** A message of {@code type} was sent to the backend, by the client or by the proxy itself. */
    void sent(byte type) {
        if (FrontendMessageType.isAnsweredByReadyForQuery(type)) {
            requestsSent.incrementAndGet();
            if (type == 'S') {
                unsynced = false;
            }
        } else if (type == 'P' || type == 'B' || type == 'E' || type == 'D' || type == 'C' || type == 'H') {
            unsynced = true;
        } // CopyData, CopyDone, CopyFail: part of a request already counted
    }

    void fromBackend(Frame frame) {
        switch (frame.type()) {
            case 'Z' -> {
                status = ReadyForQuery.decode(frame.body()).status();
                readyForQuerySeen++;
                copyIn = false;
            }
            case 'G' -> copyIn = true;
            default -> {
            }
        }
    }

    TransactionStatus status() {
        return status;
    }

    /** On the backend's loop: ReadyForQuery messages the backend still owes. */
    int pendingReadyForQuery() {
        return Math.max(0, requestsSent.get() - readyForQuerySeen);
    }

    /** On the backend's loop: how the backend can be given back now that its client has left. */
    BackendPool.Release release() {
        if (copyIn || unsynced) {
            return BackendPool.Release.DIRTY;
        }
        if (pendingReadyForQuery() > 0) {
            return BackendPool.Release.BUSY;
        }
        return status == TransactionStatus.IDLE ? BackendPool.Release.CLEAN : BackendPool.Release.DIRTY;
    }
}
