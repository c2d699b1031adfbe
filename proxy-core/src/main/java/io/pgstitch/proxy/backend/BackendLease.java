package io.pgstitch.proxy.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.FutureListener;
import io.netty.util.concurrent.Promise;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;
import io.pgstitch.proxy.pool.BackendPool;
import io.pgstitch.proxy.pool.PooledBackend;
import io.pgstitch.proxy.pool.PreparedStatements;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pooled backend while one session uses it, as its own backend or for one RPC call. Every message sent is
 * recorded, with who its answer belongs to, in the backend's {@link PendingResponses}; every frame read goes to
 * that owner on the session's loop. Giving the backend back decides, on the backend's own loop, whether the
 * pool may reuse it.
 *
 * <p>Threads: the session calls this on its loop. A backend opened for this client shares that loop and every
 * call is direct; a pooled backend opened for an earlier client may live on another loop, and then each write
 * becomes a task on the backend's loop (in order), so the FIFO is only ever touched there.
 *
 * <p>Large messages: a {@linkplain Frame#head head} is one message to the FIFO, in both directions; its
 * continuations follow it (sent as written, or handed to the head's owner) without being recorded again. A
 * backend left in the middle of a message, either way, cannot be reused: its user gone, it is closed, not drained.
 */
public final class BackendLease {

    private final PooledBackend pooled;
    private final PendingResponses pending;
    private final BackendListener listener;
    private final BackendConnector connector;
    private final EventLoop sessionLoop;
    private final EventLoop backendLoop;
    /** Written on the backend's loop as ReadyForQuery is read; read on the session's loop after its frame. */
    private volatile TransactionStatus status;
    /** Written on the session's loop, read on the backend's when the backend is given back. */
    private volatile Future<Void> cancelInFlight;
    /** Backend's loop: a message sent to the backend has begun and not ended. */
    private boolean sendingMessage;
    /** Backend's loop: the owner of a message read from the backend that has begun and not ended. */
    private ResponseTarget receivingFor;
    /**
     * Set on the backend's loop when the backend goes back between transactions: from then on its frames and
     * channel events are nobody's (the session may have taken another backend meanwhile).
     */
    private volatile boolean detached;
    /** Transaction and statement modes: the client's prepared statements under the backend's names; else null. */
    private final StatementTranslator statements;

    private BackendLease(PooledBackend pooled, BackendListener listener, EventLoop sessionLoop,
                         BackendConnector connector, PreparedStatements clientStatements) {
        this.pooled = pooled;
        this.statements = clientStatements == null ? null : new StatementTranslator(clientStatements,
                pooled.statements(), pooled.connection().channel().alloc());
        this.connector = connector;
        this.sessionLoop = sessionLoop;
        this.backendLoop = pooled.connection().channel().eventLoop();
        this.status = pooled.connection().status();
        this.pending = new PendingResponses(status, listener);
        this.listener = listener;
    }

    /** Starts relaying {@code pooled}'s frames and events to {@code listener} on {@code sessionLoop}. */
    public static BackendLease attach(PooledBackend pooled, BackendListener listener, EventLoop sessionLoop,
                                      BackendConnector connector) {
        return attach(pooled, listener, sessionLoop, connector, null);
    }

    /**
     * As {@link #attach(PooledBackend, BackendListener, EventLoop, BackendConnector)}, for a client whose named
     * prepared statements live under backend names of pgstitch's own (transaction and statement modes).
     */
    public static BackendLease attach(PooledBackend pooled, BackendListener listener, EventLoop sessionLoop,
                                      BackendConnector connector, PreparedStatements clientStatements) {
        BackendLease lease = new BackendLease(pooled, listener, sessionLoop, connector, clientStatements);
        pooled.attach(new BackendRelay(lease, listener));
        return lease;
    }

    public PooledBackend pooled() {
        return pooled;
    }

    public BackendConnection connection() {
        return pooled.connection();
    }

    public Channel channel() {
        return pooled.connection().channel();
    }

    /** The backend's parameters as last reported (a live view). */
    public Map<String, String> parameters() {
        return pooled.parameters();
    }

    /** Whether this backend lives on the session's loop (no task hop per message). */
    public boolean sameLoop() {
        return backendLoop == sessionLoop;
    }

    /** The transaction status of the last ReadyForQuery read. */
    public TransactionStatus status() {
        return status;
    }

    /** Sends and flushes {@code messages}, which it takes, their answers going to {@code owner}. */
    public void sendAll(List<ByteBuf> messages, ResponseTarget owner) {
        for (ByteBuf message : messages) {
            send(message, owner);
        }
        flush();
    }

    /**
     * Sends one message (unflushed), whose answer goes to {@code owner}; takes over {@code message}, which must
     * hold exactly one complete message.
     */
    public void send(ByteBuf message, ResponseTarget owner) {
        if (statements != null) {
            send(new Frame(message), owner);
            return;
        }
        byte type = message.getByte(message.readerIndex());
        onBackendLoop(() -> {
            pending.sent(type, owner);
            channel().write(message, channel().voidPromise());
        });
    }

    /**
     * Forwards a client's frame, whose answer goes to {@code owner}; takes over the frame's reference. A head is
     * recorded as its message; a continuation is written as it is (its head was sent before it).
     */
    public void send(Frame frame, ResponseTarget owner) {
        ByteBuf content = frame.content();
        boolean ends = frame.remaining() == 0;
        if (frame.isContinuation()) {
            onBackendLoop(() -> {
                sendingMessage = !ends;
                channel().write(content, channel().voidPromise());
            });
            return;
        }
        byte type = frame.type();
        if (statements != null) {
            onBackendLoop(() -> {
                for (ByteBuf message : statements.outgoing(frame)) {
                    pending.sent(message.getByte(message.readerIndex()), owner);
                    channel().write(message, channel().voidPromise());
                }
                sendingMessage = !ends;
            });
            return;
        }
        onBackendLoop(() -> {
            pending.sent(type, owner);
            sendingMessage = !ends;
            channel().write(content, channel().voidPromise());
        });
    }

    /** DEALLOCATE ALL or DISCARD ALL was sent: the client's statements and the backend's are gone. */
    public void forgetPreparedStatements() {
        if (statements != null) {
            onBackendLoop(statements::forgetAll);
        }
    }

    public void flush() {
        onBackendLoop(() -> channel().flush());
    }

    /**
     * Runs {@code callback} on the session's loop once every request sent so far has been answered (after the
     * last ReadyForQuery has reached its owner), or at once when nothing is owed. Requests whose Sync was not
     * sent are not waited for.
     */
    public void whenAnswered(Runnable callback) {
        onBackendLoop(() -> {
            if (pending.whenAnswered(callback)) {
                onSessionLoop(callback, listener);
            }
        });
    }

    /**
     * A frame read on the backend's loop: recorded, then handed to its owner on the session's loop, which owns it
     * from then on. A frame that cannot be read (a hostile shard) is released here and the exception goes on to
     * the backend's pipeline, which reports it to the listener.
     */
    void received(Frame read, BackendListener listener) {
        if (detached) { // given back: read before the pool's idle handler took over, it is nobody's
            read.release();
            return;
        }
        if (read.isContinuation()) { // the rest of a message whose head has found its owner
            ResponseTarget target = receivingFor;
            if (target == null) {
                read.release();
                throw new IllegalStateException("a continuation without its head: " + read);
            }
            if (read.remaining() == 0) {
                receivingFor = null;
            }
            onSessionLoop(() -> target.response(read), listener);
            return;
        }
        Frame frame = statements == null ? read : statements.incoming(read);
        if (frame == null) { // the answer to a message pgstitch added: counted as answered, seen by nobody
            try {
                pending.targetOf(read, new ArrayList<>(0));
            } finally {
                read.release();
            }
            return;
        }
        ResponseTarget owner = listener;
        List<Runnable> answered = new ArrayList<>(0);
        try {
            byte type = frame.type();
            if (type == 'S') {
                pooled.reported(frame.body());
            } else if (type != 'A') { // ParameterStatus and notifications are the connection's, not a request's
                owner = pending.targetOf(frame, answered);
                status = pending.status();
            }
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        ResponseTarget target = owner;
        receivingFor = frame.remaining() > 0 ? target : null;
        onSessionLoop(() -> target.response(frame), listener);
        answered.forEach(callback -> onSessionLoop(callback, listener));
    }

    /** A channel event (writability, close, failure): for the session unless the backend went back. */
    void channelEvent(Runnable event, BackendListener listener) {
        onSessionLoop(() -> {
            if (!detached) {
                event.run();
            }
        }, listener);
    }

    /**
     * Runs a backend event on the session's loop. A failure there is the session's to handle as a failed
     * backend, never an exception left to Netty ("a task raised an exception").
     */
    void onSessionLoop(Runnable event, BackendListener listener) {
        Runnable guarded = () -> {
            try {
                event.run();
            } catch (RuntimeException e) {
                listener.backendFailed(e);
            }
        };
        if (sessionLoop.inEventLoop()) {
            guarded.run();
        } else {
            sessionLoop.execute(guarded);
        }
    }

    private void onBackendLoop(Runnable task) {
        if (backendLoop.inEventLoop()) {
            task.run();
        } else {
            backendLoop.execute(task);
        }
    }

    /**
     * Forwards a cancel for whatever the backend runs now; {@code loop} is the session's.
     *
     * @return done when the shard has taken every cancel forwarded so far (it closed their connections)
     */
    public Future<Void> cancel(EventLoop loop) {
        BackendConnection connection = connection();
        Future<Void> cancel = alsoAwaiting(loop, cancelInFlight,
                connector.cancel(loop, connection.shard(), connection.keyData()));
        cancelInFlight = cancel;
        return cancel;
    }

    /**
     * Done when both cancels are: each travels on a connection of its own, so a later one may be taken by the
     * server first, and the backend must not be reset (or serve another client) while either can still land.
     */
    private static Future<Void> alsoAwaiting(EventLoop loop, Future<Void> earlier, Future<Void> later) {
        if (earlier == null || earlier.isDone()) {
            return later;
        }
        Promise<Void> both = loop.newPromise();
        AtomicInteger left = new AtomicInteger(2);
        FutureListener<Void> done = cancel -> {
            if (left.decrementAndGet() == 0) {
                both.trySuccess(null);
            }
        };
        earlier.addListener(done);
        later.addListener(done);
        return both;
    }

    /**
     * Transaction and statement modes: gives the backend back, as it is, when it owes nothing, is between messages
     * both ways and idle (outside a transaction block, not in COPY); {@code done} learns on the session's loop
     * whether it did. The session sends nothing more meanwhile.
     */
    public void releaseIfIdle(java.util.function.Consumer<Boolean> done) {
        onBackendLoop(() -> {
            boolean idle = !sendingMessage && receivingFor == null && pending.idle() && channel().isActive();
            if (idle) {
                detached = true;
                pooled.pool().release(pooled, BackendPool.Release.TRANSACTION_END, 0, cancelInFlight);
            }
            onSessionLoop(() -> done.accept(idle), listener);
        });
    }

    /**
     * Returns the backend to its pool, or has it closed when its state is unknown. A request still running is
     * cancelled first; the pool reuses the backend only after that request's ReadyForQuery says idle.
     *
     * A backend in the middle of a message, sent or received, is closed: the rest of a large message would cost
     * a drain of unknown length (a cancel does not stop a row being sent), and the half sent is unusable.
     *
     * @param broken the protocol state is unknown (a FATAL error, a client that broke the protocol): close it
     */
    public void giveBack(boolean broken) {
        // Decided on the backend's loop, where frames are read: nothing can be in flight between the two owners.
        onBackendLoop(() -> {
            boolean midMessage = sendingMessage || receivingFor != null;
            BackendPool.Release release = broken || midMessage || !channel().isActive()
                    ? BackendPool.Release.DIRTY : pending.release();
            Future<Void> cancel = cancelInFlight;
            if (release == BackendPool.Release.BUSY) {
                BackendConnection connection = connection();
                cancel = alsoAwaiting(backendLoop, cancel,
                        connector.cancel(backendLoop, connection.shard(), connection.keyData()));
            }
            pooled.pool().release(pooled, release, pending.owed(), cancel);
        });
    }
}
