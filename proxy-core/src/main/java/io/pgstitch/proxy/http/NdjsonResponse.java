package io.pgstitch.proxy.http;

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

/**
 * The response streamed as it is produced ({@code Accept: application/x-ndjson}): status 200 once the session
 * is logged in, then one {@link EventJson} line per event, in chunks, flushed at the end of each read from the
 * session. Nothing is held: while the HTTP client does not keep up, {@link SqlSession#pause} stops the proxy from
 * reading the backends, so a result of any size streams through a fixed amount of memory.
 */
final class NdjsonResponse extends EventStream {

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
        super(null);
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

    @Override
    void send(JsonOut json) {
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
    void ended(PgException failure) {
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
