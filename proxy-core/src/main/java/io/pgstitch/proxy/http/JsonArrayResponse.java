package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.ErrorField;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.NoticeResponse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The whole response at once, when the client did not ask to stream: a JSON array with one object per statement,
 * <pre>
 * [{"statement": {"index": 0, "start": 0, "end": 27}, "command": "INSERT 0 1", "notices": []},
 *  {"statement": {...}, "columns": [...], "rows": [[...], ...], "command": "SELECT 2", "notices": [...]},
 *  {"statement": {...}, "error": {"code": "P0001", "message": ..., "hint": ...}, "notices": []}]
 * </pre>
 * {@code columns} and {@code rows} only for statements that return rows. It is built in one buffer, so its rows
 * are limited ({@code http.limits.max_rows}): the statement that passes the limit has its rows dropped and ends
 * in an error with SQLSTATE 54000 naming it, and the request is cancelled; a statement that still completes
 * before the cancel lands is reported as it ran.
 */
final class JsonArrayResponse implements ResultEvents {

    private final JsonOut json;
    private final int maxRows;
    private final Runnable cancel;
    private final Consumer<ByteBuf> finished;
    private final List<NoticeResponse> notices = new ArrayList<>();
    private int rows;
    private boolean statementOpen;
    private boolean rowsOpen;
    /** Where the current statement's rows begin, to drop them if they pass the limit. */
    private int rowsMark;
    /** The current statement passed the row limit. */
    private boolean overLimit;
    private boolean cancelled;
    private boolean ended;
    /** An error ended the request's last statement: a FATAL one precedes the session's end. */
    private boolean errored;

    /**
     * @param cancel   cancels the request (row limit passed)
     * @param finished takes the body once the request is answered
     */
    JsonArrayResponse(int maxRows, Runnable cancel, Consumer<ByteBuf> finished) {
        this.json = new JsonOut(4096);
        this.maxRows = maxRows;
        this.cancel = cancel;
        this.finished = finished;
        json.beginArray();
    }

    @Override
    public void statementStarted(int index, Statements.Span statement) {
        json.beginObject().name("statement");
        EventJson.span(json, index, statement);
        statementOpen = true;
        overLimit = false;
    }

    @Override
    public void columns(int index, Columns columns) {
        json.name("columns");
        columns.write(json);
        json.name("rows").beginArray();
        rowsMark = json.mark();
        rowsOpen = true;
    }

    @Override
    public void rows(int index, ByteBuf dataRows, int count, Columns columns) {
        if (overLimit) {
            return;
        }
        if (rows + count > maxRows) {
            overLimit = true;
            json.truncate(rowsMark);
            if (!cancelled) {
                cancelled = true;
                cancel.run();
            }
            return;
        }
        rows += count;
        JsonValues.writeRows(json, dataRows, count, columns);
    }

    @Override
    public void notice(int index, NoticeResponse notice) {
        notices.add(notice);
    }

    @Override
    public void statementDone(int index, String command) {
        if (overLimit) {
            error(index, limitError());
            return;
        }
        closeRows();
        json.name("command").string(command);
        endStatement();
    }

    @Override
    public void error(int index, ErrorResponse error) {
        closeRows();
        json.name("error");
        EventJson.fields(json, overLimit ? limitError() : error);
        endStatement();
        errored = true;
    }

    @Override
    public void done() {
        if (!ended) {
            ended = true;
            if (statementOpen) { // a started statement the server never answered: there is none, but be whole
                closeRows();
                endStatement();
            }
            finished.accept(json.endArray().toBuffer());
        }
    }

    @Override
    public void failed(PgException error) {
        if (ended) {
            return;
        }
        if (errored) { // the session's FATAL error is in the array already
            done();
            return;
        }
        if (!statementOpen) {
            json.beginObject();
            statementOpen = true;
        }
        closeRows();
        json.name("error");
        EventJson.fields(json, error.toErrorResponse());
        endStatement();
        done();
    }

    @Override
    public void flush() {
        // nothing is sent before the end
    }

    /** The request was abandoned (the HTTP client left): the body is never sent. */
    void discard() {
        ended = true;
    }

    private ErrorResponse limitError() {
        Map<Character, String> fields = new LinkedHashMap<>();
        fields.put(ErrorField.SEVERITY, "ERROR");
        fields.put(ErrorField.CODE, SqlState.PROGRAM_LIMIT_EXCEEDED);
        fields.put(ErrorField.MESSAGE, "the response has more than " + maxRows
                + " rows (http.limits.max_rows); the request was cancelled");
        fields.put(ErrorField.HINT, "Ask for Accept: application/x-ndjson to stream results of any size.");
        return new ErrorResponse(fields);
    }

    private void closeRows() {
        if (rowsOpen) {
            json.endArray();
            rowsOpen = false;
        }
    }

    private void endStatement() {
        json.name("notices").beginArray();
        for (NoticeResponse notice : notices) {
            EventJson.fields(json, notice);
        }
        notices.clear();
        json.endArray().endObject();
        statementOpen = false;
    }
}
