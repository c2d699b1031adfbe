package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.backend.ErrorField;
import io.pgstitch.protocol.backend.FieldMessage;

/**
 * The events of a request as JSON objects, one per NDJSON line or WebSocket message:
 * <pre>
 * {"event":"statement_started","statement":{"index":0,"start":0,"end":27}}
 * {"event":"columns","statement":0,"columns":[{"name":"id","type":"int4","type_oid":23}]}
 * {"event":"rows","statement":0,"rows":[[1,"a"],[2,"b"]]}
 * {"event":"notice","statement":0,"notice":{"severity":"NOTICE","code":"00000","message":"..."}}
 * {"event":"statement_done","statement":0,"command":"INSERT 0 1"}
 * {"event":"error","statement":1,"error":{"code":"P0001","message":"...","detail":...,"hint":...,"position":8}}
 * {"event":"done"}
 * </pre>
 * Over a WebSocket each event starts with the request's {@code "id"}.
 */
final class EventJson {

    private EventJson() {
    }

    /** Opens an event object; the caller adds its members and closes it. */
    static JsonOut begin(JsonOut json, String id, String event) {
        json.beginObject();
        if (id != null) {
            json.name("id").raw(id);
        }
        return json.name("event").string(event);
    }

    static void statementStarted(JsonOut json, String id, int index, Statements.Span span) {
        begin(json, id, "statement_started").name("statement");
        span(json, index, span);
        json.endObject();
    }

    /** {@code {"index": 0, "start": 0, "end": 27}}; without a span (more results than statements) only the index. */
    static void span(JsonOut json, int index, Statements.Span span) {
        json.beginObject().name("index").number(index);
        if (span != null) {
            json.name("start").number(span.start()).name("end").number(span.end());
        }
        json.endObject();
    }

    static void columns(JsonOut json, String id, int index, Columns columns) {
        begin(json, id, "columns").name("statement").number(index).name("columns");
        columns.write(json);
        json.endObject();
    }

    static void rows(JsonOut json, String id, int index, ByteBuf dataRows, int count, Columns columns) {
        begin(json, id, "rows").name("statement").number(index).name("rows").beginArray();
        JsonValues.writeRows(json, dataRows, count, columns);
        json.endArray().endObject();
    }

    static void notice(JsonOut json, String id, int index, FieldMessage notice) {
        begin(json, id, "notice").name("statement");
        if (index < 0) {
            json.nullValue();
        } else {
            json.number(index);
        }
        json.name("notice");
        fields(json, notice);
        json.endObject();
    }

    static void statementDone(JsonOut json, String id, int index, String command) {
        begin(json, id, "statement_done").name("statement").number(index).name("command").string(command)
                .endObject();
    }

    static void error(JsonOut json, String id, int index, FieldMessage error) {
        begin(json, id, "error").name("statement").number(index).name("error");
        fields(json, error);
        json.endObject();
    }

    /** The session ended: its FATAL error, not tied to a statement. */
    static void failed(JsonOut json, String id, PgException error) {
        begin(json, id, "error").name("error");
        fields(json, error.toErrorResponse());
        json.endObject();
    }

    static void refused(JsonOut json, String id, HttpError error) {
        begin(json, id, "error").name("error");
        error.write(json);
        json.endObject();
    }

    static void done(JsonOut json, String id) {
        begin(json, id, "done").endObject();
    }

    /**
     * A statement's error or notice as PostgreSQL gave it: {@code code} is the SQLSTATE, {@code position} (1-based,
     * in characters of the text the server ran) a number.
     */
    static void fields(JsonOut json, FieldMessage message) {
        json.beginObject().optional("severity", message.fields().getOrDefault(ErrorField.SEVERITY_NONLOCALIZED,
                        message.severity()))
                .optional("code", message.sqlState()).optional("message", message.message())
                .optional("detail", message.detail()).optional("hint", message.hint());
        String position = message.fields().get(ErrorField.POSITION);
        if (position != null && position.matches("\\d{1,9}")) {
            json.name("position").number(Long.parseLong(position));
        }
        json.optional("where", message.fields().get(ErrorField.WHERE)).endObject();
    }
}
