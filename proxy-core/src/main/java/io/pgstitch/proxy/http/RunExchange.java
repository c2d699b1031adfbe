package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.Future;

/**
 * One {@code POST /v1/databases/{id}/run}: opens a session as the request's user, takes one of the user's
 * request slots, runs the text (or the parameterised statement), answers as a JSON array or as NDJSON, and
 * closes the session. A client that leaves first has its session closed, which cancels what runs, as for a
 * PostgreSQL client that disconnects. HTTP connection's event loop only.
 */
final class RunExchange {

    private final HttpRequests requests;
    private final ChannelHandlerContext ctx;
    private final SqlOverHttp server;
    private final Login login;
    private final RunRequest request;
    private final boolean stream;
    private final boolean keepAlive;
    private SqlSession session;
    private boolean slotHeld;
    private NdjsonResponse streaming;
    private JsonArrayResponse buffered;
    private boolean over;

    RunExchange(HttpRequests requests, ChannelHandlerContext ctx, SqlOverHttp server, Login login, RunRequest request,
                boolean stream, boolean keepAlive) {
        this.requests = requests;
        this.ctx = ctx;
        this.server = server;
        this.login = login;
        this.request = request;
        this.stream = stream;
        this.keepAlive = keepAlive;
    }

    void start() {
        SqlSession.open(server.sessions(), ctx.channel().eventLoop(), login).addListener(this::opened);
    }

    private void opened(Future<? super SqlSession> opening) {
        if (over) { // the client left while the session logged in
            if (opening.isSuccess()) {
                ((SqlSession) opening.getNow()).close();
            }
            return;
        }
        if (!opening.isSuccess()) {
            refuse(HttpError.ofLogin(opening.cause(), login));
            return;
        }
        session = (SqlSession) opening.getNow();
        int max = server.config().limits().maxConcurrentRequests();
        if (!server.slots().tryAcquire(login.user(), max)) {
            refuse(HttpError.of(HttpResponseStatus.TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", "Too many requests",
                    "user \"" + login.user() + "\" has " + max + " requests running "
                            + "(http.limits.max_concurrent_requests)", "Wait for one to finish."));
            return;
        }
        slotHeld = true;
        ResultEvents events;
        if (stream) {
            events = streaming = new NdjsonResponse(ctx.channel(), session, keepAlive, this::finish);
        } else {
            events = buffered = new JsonArrayResponse(server.config().limits().maxRows(), session::cancel,
                    this::answer);
        }
        if (request.params() != null) {
            session.run(request.sql(), request.params(), events);
        } else {
            session.run(request.sql(), events);
        }
    }

    private void answer(ByteBuf body) {
        HttpRequests.send(ctx, HttpRequests.response(ctx, HttpResponseStatus.OK, body, keepAlive), keepAlive);
        finish();
    }

    private void refuse(HttpError error) {
        HttpRequests.respond(ctx, error, keepAlive);
        finish();
    }

    /** The response is written: the session goes, the slot is free, the connection takes the next request. */
    private void finish() {
        if (over) {
            return;
        }
        over = true;
        release();
        requests.exchangeDone(ctx, keepAlive);
    }

    /** The HTTP connection closed before the answer. */
    void abort() {
        if (over) {
            return;
        }
        over = true;
        if (buffered != null) {
            buffered.discard();
        }
        release();
    }

    void writable(boolean writable) {
        if (streaming != null) {
            streaming.writable(writable);
        }
    }

    private void release() {
        if (session != null) {
            session.close();
        }
        if (slotHeld) {
            slotHeld = false;
            server.slots().release(login.user());
        }
    }
}
