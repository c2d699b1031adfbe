package io.pgstitch.proxy.frontend;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.pgstitch.conf.Route;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.OversizedMessage;
import io.pgstitch.protocol.backend.AuthenticationOk;
import io.pgstitch.protocol.backend.BackendKeyData;
import io.pgstitch.protocol.backend.ParameterStatus;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.proxy.backend.BackendLease;
import io.pgstitch.proxy.backend.ShardLogin;
import io.pgstitch.proxy.pool.ClientSession;
import io.pgstitch.proxy.pool.PooledBackend;
import io.pgstitch.proxy.rpc.RpcRouter;
import io.pgstitch.proxy.rpc.RpcSettings;
import io.pgstitch.proxy.rpc.StitchedRequest;

import java.util.ArrayDeque;

/**
 * The session once logged in: every client frame goes to the backend, every backend frame to the client,
 * untouched (no copy, no decode) except the few the proxy must understand: Terminate from the client;
 * ParameterStatus and FATAL ErrorResponse from the backend. When RPC functions are configured, an
 * {@link RpcRouter} looks at each Query and extended-protocol message; a request that calls one runs as a
 * {@link StitchedRequest}, and what the client sends meanwhile waits its turn. Backpressure: when one side stops
 * being writable the other side stops being read, so a slow client never makes the proxy buffer a result set.
 * A large message goes through piecewise (a head, then continuations, see {@link Frame}), each piece as it is read,
 * with the same backpressure; only a message the proxy must read is read whole, up to {@link MessageSizeLimit}.
 */
final class ClientRelay extends ChannelInboundHandlerAdapter implements CancelRegistry.CancelTarget {

    static final String NAME = "relay";
    /** Messages read while a backend is being taken before reading pauses (a pipelining client sends more). */
    private static final int MAX_QUEUED_FOR_A_BACKEND = 32;

    private final ClientConnection client;
    private final Channel channel;
    private final Route route;
    private final ShardLogin login;
    private final ArrayDeque<Frame> pending = new ArrayDeque<>();
    private final RelayStitchSession stitchSession;
    private final RpcSettings rpc;
    /** Null when no RPC function is configured: then every message passes through without a look. */
    private final RpcRouter router;
    private BackendLease backend;
    private BackendKeyData issuedKey;
    private boolean started;
    /** The request being stitched, from its last message until its ReadyForQuery; null otherwise. */
    private StitchedRequest stitched;
    /** A stitched request run at a client's Flush failed: the client's messages are skipped until its Sync. */
    private boolean skippingUntilSync;
    /** The client shut down its writing side: once everything it sent is answered, the session ends. */
    private boolean inputShutdown;
    /** PAUSE holds the client's next transaction: what it sends waits in {@link #pending}. */
    private final PauseHold pause;
    /** The binding policy and what the session holds apart from its backend (statements, settings). */
    private final ClientSession session;
    /** Transaction and statement modes, between transactions: the backend is being given back or taken. */
    private final PoolBinding binding;
    /** The session is over: frames still decoded are nobody's. */
    private boolean ended;
    /** The backend's answers, and what the relay learns from them. */
    private final BackendEvents events;

    ClientRelay(ClientConnection client, Route route, ShardLogin login) {
        this.client = client;
        this.channel = client.channel();
        this.route = route;
        this.login = login;
        this.rpc = client.context().rpc().get();
        this.router = rpc.active() ? new RpcRouter(rpc, channel.alloc()) : null;
        this.stitchSession = new RelayStitchSession(this, client, route, login, rpc);
        this.pause = new PauseHold(client, this::relayPending);
        this.session = new ClientSession(route.pool());
        this.binding = new PoolBinding(this, client, route, login, session);
        this.events = new BackendEvents(this, client, binding, session, router);
    }

    /** Takes the session backend: its events come here from now on. */
    BackendLease attach(PooledBackend pooled) {
        backend = BackendLease.attach(pooled, events, channel.eventLoop(), client.context().connector(),
                session.preparedStatements());
        backend.channel().config().setAutoRead(channel.isWritable());
        client.serving(pooled);
        return backend;
    }

    /** The backend has the client's settings: the client is logged in, and what it pipelined goes through. */
    void start(ArrayDeque<Frame> pipelined, boolean inputShutdown) {
        this.inputShutdown = inputShutdown;
        started = true;
        events.reported().putAll(backend.parameters());
        issuedKey = client.context().cancels().issue(this, client.startup().usesLongCancelKeys() ? 32 : 4);
        client.decoder().authenticated(router != null || session.policy().releasesWhenIdle(),
                client.context().limits().maxMessageSize());
        client.write(AuthenticationOk.INSTANCE);
        events.reported().forEach((name, value) -> client.write(new ParameterStatus(name, value)));
        client.write(issuedKey);
        client.write(ReadyForQuery.of(backend.status()));
        channel.flush();
        pending.addAll(pipelined);
        pipelined.clear();
        relayPending();
        if (backend != null) { // else a Terminate it pipelined has ended the session already
            binding.transactionMayHaveEnded(backend.status());
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (ended) { // what the decoder still had is nobody's
            ReferenceCountUtil.release(msg);
            return;
        }
        Frame frame = msg instanceof OversizedMessage oversized
                ? MessageSizeLimit.refusal(oversized, channel.alloc()) : (Frame) msg;
        boolean startsTransaction = client.counters().idle();
        client.counters().received(frame.type(), frame.content().readableBytes());
        if (pause.holds(startsTransaction)) {
            pending.add(frame);
            pause.begin();
            return;
        }
        if (!binding.ready() || !pending.isEmpty()) { // between transactions: a backend is on its way
            pending.add(frame);
            if (stitched != null || pending.size() >= MAX_QUEUED_FOR_A_BACKEND) {
                channel.config().setAutoRead(false); // not for every bind: each pause and resume is a syscall
            }
            relayPending();
            return;
        }
        relayToBackend(frame);
    }

    private void relayToBackend(Frame frame) {
        byte type = frame.type();
        events.clientSent(type);
        if (type == 'X') { // Terminate: as PostgreSQL, what came before it runs to its end, then the session ends
            frame.release();
            channel.config().setAutoRead(false);
            pending.forEach(Frame::release); // nothing after it is read
            pending.clear();
            inputShutdown(true);
            return;
        }
        if (stitched != null) {
            if (type == 'd' || type == 'c' || type == 'f') { // COPY FROM STDIN in one of its session steps
                backend.send(frame, events::clientResponse); // part of a request already recorded
            } else { // the next request waits until the stitched one is answered
                pending.add(frame);
                channel.config().setAutoRead(false);
            }
            return;
        }
        if (skippingUntilSync) {
            skipUntilSync(frame);
            return;
        }
        boolean copyIn = events.copyIn();
        if (frame.isComplete() && (type == 'Q' || type == 'P') && !copyIn) {
            frame = binding.inspect(frame, events.reported());
        }
        // a message in pieces is CopyData (the router reads every other type whole): never held or split; nor is
        // what comes during COPY FROM STDIN: PostgreSQL reads it as part of the COPY (anything but CopyData,
        // CopyDone, CopyFail, Flush and Sync fails it with 08P01), so it must reach the backend
        if (router != null && !copyIn && frame.isComplete() && routeElsewhere(frame)) {
            return;
        }
        backend.send(frame, events::clientResponse);
    }

    /** After an error, as PostgreSQL: messages are dropped until a Sync, which is answered with ReadyForQuery. */
    private void skipUntilSync(Frame frame) {
        boolean sync = frame.type() == Sync.TYPE;
        frame.release();
        if (sync) {
            skippingUntilSync = false;
            client.write(ReadyForQuery.of(backend.status()));
            channel.flush();
        }
    }

    /** Lets the router take {@code frame}; true when it did (held for a batch, or a stitched request began). */
    private boolean routeElsewhere(Frame frame) {
        RpcRouter.Routing routing;
        try {
            routing = router.route(frame, !"off".equals(reportedParameter("standard_conforming_strings")),
                    reportedParameter("client_encoding"));
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        }
        if (routing == RpcRouter.Routing.READY) {
            boolean answersSync = router.planAnswersSync();
            StitchedRequest request = new StitchedRequest(stitchSession, router.takePlan(), answersSync, rpc,
                    client.context().rpcMetrics());
            stitched = request;
            // it starts once the backend has answered what the client sent before it
            backend.whenAnswered(() -> {
                if (stitched == request) {
                    request.start(events.takeErrorSinceSync()); // the request answers that error's Sync
                }
            });
        }
        return routing != RpcRouter.Routing.PASS;
    }

    /**
     * Relays what waited (behind a login or a stitched request). Called from backend events, so a client's
     * malformed message found here is reported as the client's failure, not the backend's.
     */
    void relayPending() {
        try {
            while (stitched == null && !pause.active() && !client.isClosed() && !pending.isEmpty()) {
                if (!binding.ready()) {
                    if (pending.peek().type() == 'X') { // no backend needed to say goodbye
                        relayToBackend(pending.poll());
                    } else if (!binding.releasing() && binding.answerParsesAlone(pending, events.reported())) {
                        continue;
                    } else {
                        binding.bind();
                    }
                    return;
                }
                relayToBackend(pending.poll());
            }
        } catch (RuntimeException e) {
            ClientGuard.fail(client, e);
            return;
        }
        if (!client.isClosed() && backend == null && pending.isEmpty()) { // between transactions, nothing waiting
            if (inputShutdown) {
                client.close();
            } else {
                resumeReading();
            }
        } else if (!client.isClosed() && backend != null) {
            backend.flush();
            if (inputShutdown && stitched == null && pending.isEmpty()) {
                backend.whenAnswered(client::close);
            } else {
                resumeReading();
            }
        }
    }

    /**
     * A half-closed client (it shut down its writing side after its last request) still gets every answer, as
     * from PostgreSQL; the session ends once they are all sent.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof ChannelInputShutdownEvent) {
            inputShutdown(false);
        } else {
            super.userEventTriggered(ctx, event);
        }
    }

    /** @param terminated the client said goodbye (Terminate) rather than shut down its side */
    private void inputShutdown(boolean terminated) {
        inputShutdown = true;
        if (events.copyIn()) { // the backend waits for CopyData that will never come: as PostgreSQL, end it
            if (terminated) {
                client.close();
            } else {
                events.endCopyWithoutClient();
            }
            return;
        }
        if (stitched == null && pending.isEmpty()) {
            if (backend == null) {
                client.close();
                return;
            }
            backend.flush();
            backend.whenAnswered(client::close);
        }
    }

    /** Reads the client again unless frames wait behind a stitched request or the backend cannot take more. */
    void resumeReading() {
        channel.config().setAutoRead(pending.isEmpty() && (backend == null || backend.channel().isWritable()));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (backend != null) {
            backend.flush(); // one flush per read batch, not per message
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        boolean writable = ctx.channel().isWritable();
        if (backend != null) {
            backend.channel().config().setAutoRead(writable);
        }
        if (stitched != null) {
            stitched.clientWritabilityChanged(writable);
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * A cancel for this client stops whatever runs for it: its session backend's query and its RPC call. {@code
     * taken} runs once the shard has taken the cancel of the session backend (at once when nothing runs), so that
     * the next request of the client cannot be the one it lands on. An RPC call's cancel is not waited for: its
     * connection serves nobody else before that cancel is settled.
     */
    @Override
    public void cancel(Runnable taken) {
        channel.eventLoop().execute(() -> {
            if (started && !client.isClosed() && backend != null) { // between transactions nothing runs
                backend.cancel(channel.eventLoop()).addListener(done -> taken.run());
                if (stitched != null) {
                    stitched.cancel();
                }
            } else {
                taken.run();
            }
        });
    }

    boolean started() {
        return started;
    }

    boolean inputIsShut() {
        return inputShutdown;
    }

    BackendLease backend() {
        return backend;
    }

    String reportedParameter(String name) {
        return events.reported().get(name);
    }

    /** The stitched request is answered: what waited behind it goes on (see StitchedRequest.Session). */
    void stitchedRequestDone(boolean skipUntilSync) {
        stitched = null;
        skippingUntilSync = skipUntilSync;
        if (!client.isClosed()) {
            relayPending();
            binding.transactionMayHaveEnded(backend.status());
        }
    }

    /** Whether a stitched request, a skip to the next Sync or a COPY holds the backend whatever its status. */
    boolean busy() {
        return stitched != null || skippingUntilSync || events.copyIn();
    }

    /** The binding policy and what the session holds apart from its backend. */
    ClientSession session() {
        return session;
    }

    /** Whether client messages wait (for a backend, behind a stitched request, or a PAUSE). */
    boolean hasPending() {
        return !pending.isEmpty();
    }

    /** The backend went back to the pool between transactions. */
    void detached() {
        backend = null;
        client.serving(null);
    }

    /** Idempotent: drops queued frames, a stitched request, the cancel key and the backend connection. */
    void released() {
        ended = true;
        pending.forEach(Frame::release);
        pending.clear();
        if (router != null) {
            router.release();
        }
        if (stitched != null) {
            stitched.abandon();
            stitched = null;
        }
        if (issuedKey != null) {
            client.context().cancels().remove(issuedKey.processId(), this);
            issuedKey = null;
        }
        if (backend != null && !binding.releasing()) { // else the release under way decides
            backend.giveBack(events.backendSentFatal() || client.violatedProtocol() || session.leavesPlaceholders());
            backend = null;
        }
    }
}
