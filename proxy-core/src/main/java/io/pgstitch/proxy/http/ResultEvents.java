package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.NoticeResponse;

/**
 * What one request's results become, statement by statement, as {@link ResultReader} reads them from the
 * session: a JSON array ({@link JsonArrayResponse}), NDJSON lines ({@link NdjsonResponse}) or WebSocket messages
 * ({@link WebSocketSession}). Calls come in this order per statement: {@link #statementStarted}, then
 * {@link #columns} and {@link #rows} for a statement that returns rows, {@link #notice} at any point, and
 * {@link #statementDone} or {@link #error} (after which no statement starts); {@link #done} ends the request,
 * or {@link #failed} when the session ended first. HTTP connection's event loop only.
 */
interface ResultEvents {

    /** @param statement where it is in the request text; null when the text holds fewer statements than ran */
    void statementStarted(int index, Statements.Span statement);

    void columns(int index, Columns columns);

    /**
     * @param dataRows {@code count} consecutive DataRow messages, borrowed: valid during the call only
     */
    void rows(int index, ByteBuf dataRows, int count, Columns columns);

    /** @param index the statement running when it came; -1 before the first one */
    void notice(int index, NoticeResponse notice);

    /** @param command the CommandComplete tag ({@code INSERT 0 1}); null for an empty query */
    void statementDone(int index, String command);

    /** The statement failed; no later statement of the request runs. */
    void error(int index, ErrorResponse error);

    /** The request is answered (ReadyForQuery); the session may run the next one. */
    void done();

    /** The session ended before the request was answered (a FATAL error, or the proxy closed it). */
    void failed(PgException error);

    /** The end of one read from the session: a good moment to flush what was written. */
    void flush();
}
