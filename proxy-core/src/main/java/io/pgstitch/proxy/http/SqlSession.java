package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.BackendKeyData;
import io.pgstitch.protocol.frontend.Describe;
import io.pgstitch.protocol.frontend.Execute;
import io.pgstitch.protocol.frontend.Parse;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.protocol.frontend.Terminate;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One client session of the proxy, opened by an HTTP request or a WebSocket through {@link LocalSessions}: the
 * HTTP side speaks the PostgreSQL protocol to it as a client would. {@link #open} logs in ({@link LocalLogin});
 * {@link #run} sends a request's text as one Query, so that the proxy splits and stitches it as any client's,
 * or a parameterised statement as Parse/Bind/Describe/Execute/Sync; {@link ResultReader} reports the results.
 * {@link #cancel} is a CancelRequest with the session's BackendKeyData; {@link #close} a Terminate, and a
 * session closed while a request runs has it cancelled by the proxy, as for a client that disconnects.
 * HTTP connection's event loop only.
 */
final class SqlSession {

    /** The index of the flag in the session end's outbound buffer that says whether the HTTP side keeps up. */
    private static final int HTTP_SIDE_WRITABILITY = 1;

    private final LocalSessions sessions;
    private final Future<Channel> sessionEnd;
    private Channel channel;
    private ResultReader reader;
    private BackendKeyData key;
    private Map<String, String> parameters = new HashMap<>();
    private boolean paused;

    private SqlSession(LocalSessions sessions, Future<Channel> sessionEnd) {
        this.sessions = sessions;
        this.sessionEnd = sessionEnd;
    }

    /** Connects and logs in; the future fails with the proxy's FATAL error (a {@link PgException}). */
    static Future<SqlSession> open(LocalSessions sessions, EventLoop loop, Login login) {
        Promise<SqlSession> loggedIn = loop.newPromise();
        Promise<Channel> end = loop.newPromise();
        SqlSession session = new SqlSession(sessions, end);
        ChannelFuture connecting = sessions.connect(loop, login.origin(), login.bearer(),
                new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        channel.pipeline().addLast(ResultReader.decoder(sessions.maxMessageSize()),
                                new LocalLogin(login, session, loggedIn));
                    }
                }, end);
        session.channel = connecting.channel();
        connecting.addListener(connected -> {
            if (!connected.isSuccess()) {
                loggedIn.tryFailure(PgException.fatal(SqlState.CONNECTION_FAILURE,
                        "cannot open a session: " + connected.cause()));
            }
        });
        return loggedIn;
    }

    /** From {@link LocalLogin}, at the login's ReadyForQuery. */
    void loggedIn(ResultReader reader, BackendKeyData key, Map<String, String> parameters) {
        this.reader = reader;
        this.key = key;
        this.parameters = parameters;
    }

    /** Reported by the session (ParameterStatus); kept up to date by {@link ResultReader}. */
    Map<String, String> parameters() {
        return parameters;
    }

    boolean isOpen() {
        return channel.isActive();
    }

    /** Whether a request is being answered. */
    boolean busy() {
        return reader != null && reader.busy();
    }

    /** Sends {@code sql} as one Query: the proxy splits it, runs RPC calls apart and stitches the results. */
    void run(String sql, ResultEvents events) {
        reader.begin(events, Statements.of(sql, !"off".equals(parameters.get("standard_conforming_strings"))));
        channel.writeAndFlush(new Query(sql).encode(channel.alloc()), channel.voidPromise());
    }

    /**
     * Runs one statement with parameters (text values, null for NULL) through the extended protocol: unnamed
     * statement and portal, types inferred by the server, results in text.
     */
    void run(String sql, List<String> parameters, ResultEvents events) {
        reader.begin(events, List.of(new Statements.Span(0, sql.stripTrailing().length())));
        ByteBuf out = channel.alloc().buffer();
        new Parse("", sql, new int[0]).encode(out);
        BindText.encode(out, parameters);
        new Describe(Describe.Target.PORTAL, "").encode(out);
        new Execute("", 0).encode(out);
        Sync.INSTANCE.encode(out);
        channel.writeAndFlush(out, channel.voidPromise());
    }

    /**
     * Cancels what runs for the session (its query and its RPC call), as a client's CancelRequest does.
     *
     * @return done once the cancel is delivered: a request sent after that cannot be the one it cancels
     */
    Future<Void> cancel() {
        if (key != null && channel.isActive()) {
            return sessions.cancel(channel.eventLoop(), key);
        }
        return channel.eventLoop().newSucceededFuture(null);
    }

    /**
     * Backpressure: while the HTTP side cannot take more, the session's end reports itself unwritable, so the
     * proxy stops reading the backends serving it, exactly as for a slow TCP client. Set later, not inside the
     * read that noticed it: the proxy may be in the middle of writing to us.
     */
    void pause(boolean pause) {
        if (pause == paused || !sessionEnd.isSuccess()) {
            return;
        }
        paused = pause;
        Channel end = sessionEnd.getNow();
        end.eventLoop().execute(() -> {
            ChannelOutboundBuffer buffer = end.unsafe().outboundBuffer();
            if (buffer != null) {
                buffer.setUserDefinedWritability(HTTP_SIDE_WRITABILITY, !pause);
            }
        });
    }

    /** Terminate, then close; idempotent. The proxy cancels a request still running. */
    void close() {
        if (channel == null) {
            return;
        }
        if (channel.isActive() && reader != null) {
            channel.writeAndFlush(Terminate.INSTANCE.encode(channel.alloc())).addListener(ChannelFutureListener.CLOSE);
        } else {
            channel.close();
        }
    }
}
