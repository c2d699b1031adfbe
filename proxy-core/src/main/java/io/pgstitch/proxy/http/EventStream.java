package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.NoticeResponse;

/**
 * A request's events sent one {@link EventJson} object at a time as they happen (NDJSON lines, WebSocket
 * messages), tagged with the request's id (null: untagged). Subclasses say how an event is sent and what follows
 * the last one.
 */
abstract class EventStream implements ResultEvents {

    private final String id;

    EventStream(String id) {
        this.id = id;
    }

    /** Sends one event. */
    abstract void send(JsonOut event);

    /** The done or failed event was sent: the request is over. */
    abstract void ended(PgException failure);

    @Override
    public void statementStarted(int index, Statements.Span statement) {
        JsonOut json = new JsonOut();
        EventJson.statementStarted(json, id, index, statement);
        send(json);
    }

    @Override
    public void columns(int index, Columns columns) {
        JsonOut json = new JsonOut();
        EventJson.columns(json, id, index, columns);
        send(json);
    }

    @Override
    public void rows(int index, ByteBuf dataRows, int count, Columns columns) {
        JsonOut json = new JsonOut(dataRows.readableBytes() + 128);
        EventJson.rows(json, id, index, dataRows, count, columns);
        send(json);
    }

    @Override
    public void notice(int index, NoticeResponse notice) {
        JsonOut json = new JsonOut();
        EventJson.notice(json, id, index, notice);
        send(json);
    }

    @Override
    public void statementDone(int index, String command) {
        JsonOut json = new JsonOut();
        EventJson.statementDone(json, id, index, command);
        send(json);
    }

    @Override
    public void error(int index, ErrorResponse error) {
        JsonOut json = new JsonOut();
        EventJson.error(json, id, index, error);
        send(json);
    }

    @Override
    public void done() {
        JsonOut json = new JsonOut();
        EventJson.done(json, id);
        send(json);
        ended(null);
    }

    @Override
    public void failed(PgException error) {
        JsonOut json = new JsonOut();
        EventJson.failed(json, id, error);
        send(json);
        ended(error);
    }
}
