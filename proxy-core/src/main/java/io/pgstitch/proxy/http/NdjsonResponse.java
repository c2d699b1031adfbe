package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.NoticeResponse;

/**
 * The response streamed as it is produced ({@code Accept: application/x-ndjson}): status 200 once the session
 * is logged in, then one {@link EventJson} line per event, in chunks, flushed at the end of each read from the
 * session. Nothing is held: while the HTTP client does not keep up, {@link SqlSession#pause} stops the proxy from
 * reading the backends, so a result of any size streams through a fixed amount of memory.
 */
final class NdjsonResponse implements ResultEvents {

    static final String CONTENT_TYPE = "application/x-ndjson";

    private final Channel channel;
    private final SqlSession session;
    private final Runnable finished;
    private boolean ended;

    /**
     * Sends the response head.
     *
     * @param finished called once the last chunk is written
     */
    NdjsonResponse(Channel channel, SqlSession session, boolean keepAlive, Runnable finished) {
        this.channel = channel;
        this.session = session;
        this.finished = finished;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, CONTENT_TYPE + "; charset=utf-8")
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (!keepAlive) {
            head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        channel.writeAndFlush(head, channel.voidPromise());
    }

    private JsonOut line() {
        return new JsonOut();
    }

    private void send(JsonOut json) {
        if (!channel.isActive()) { // the client left; the session is being closed
            return;
        }
        channel.write(new DefaultHttpContent(json.newline().toBuffer()), channel.voidPromise());
        if (!channel.isWritable()) {
            session.pause(true);
        }
    }

    /** The HTTP channel's writability changed. */
    void writable(boolean writable) {
        if (writable) {
            session.pause(false);
        }
    }

    @Override
    public void statementStarted(int index, Statements.Span statement) {
        JsonOut json = line();
        EventJson.statementStarted(json, null, index, statement);
        send(json);
    }

    @Override
    public void columns(int index, Columns columns) {
        JsonOut json = line();
        EventJson.columns(json, null, index, columns);
        send(json);
    }

    @Override
    public void rows(int index, ByteBuf dataRows, int count, Columns columns) {
        JsonOut json = new JsonOut(dataRows.readableBytes() + 128);
        EventJson.rows(json, null, index, dataRows, count, columns);
        send(json);
    }

    @Override
    public void notice(int index, NoticeResponse notice) {
        JsonOut json = line();
        EventJson.notice(json, null, index, notice);
        send(json);
    }

    @Override
    public void statementDone(int index, String command) {
        JsonOut json = line();
        EventJson.statementDone(json, null, index, command);
        send(json);
    }

    @Override
    public void error(int index, ErrorResponse error) {
        JsonOut json = line();
        EventJson.error(json, null, index, error);
        send(json);
    }

    @Override
    public void done() {
        JsonOut json = line();
        EventJson.done(json, null);
        send(json);
        end();
    }

    @Override
    public void failed(PgException error) {
        JsonOut json = line();
        EventJson.failed(json, null, error);
        send(json);
        end();
    }

    @Override
    public void flush() {
        channel.flush();
    }

    private void end() {
        if (!ended) {
            ended = true;
            channel.writeAndFlush(new DefaultLastHttpContent(), channel.voidPromise());
            finished.run();
        }
    }
}
