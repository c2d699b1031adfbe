package io.pgstitch.proxy.backend;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Promise;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.DataRows;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.frontend.Query;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.function.IntConsumer;

/**
 * Right after a login, asks the server how many connections it allows to roles without reserved slots:
 * {@code max_connections} less {@code superuser_reserved_connections} and (PostgreSQL 16+) {@code
 * reserved_connections}, so that a shard's total in pgstitch never promises more than the server will accept.
 * Asked once per shard, on its first connection; a server that will not say (an error) leaves the configured
 * total alone. Completes the login's promise when the server is ready again, then leaves the pipeline.
 */
final class ConnectionLimitQuery extends ChannelInboundHandlerAdapter {

    static final String SQL = "SELECT current_setting('max_connections')::int"
            + " - current_setting('superuser_reserved_connections')::int"
            + " - coalesce(current_setting('reserved_connections', true)::int, 0)";
    private static final Logger log = LoggerFactory.getLogger(ConnectionLimitQuery.class);

    private final BackendConnection connection;
    private final Promise<BackendConnection> promise;
    private final IntConsumer learnt;
    private int limit = -1;

    ConnectionLimitQuery(BackendConnection connection, Promise<BackendConnection> promise, IntConsumer learnt) {
        this.connection = connection;
        this.promise = promise;
        this.learnt = learnt;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(new Query(SQL).encode(ctx.alloc()), ctx.voidPromise());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame frame = (Frame) msg;
        try {
            if (!frame.isComplete() && frame.type() != 'N') {
                throw violation("a message in pieces");
            }
            switch (frame.type()) {
                case 'D' -> limit = number(DataRows.firstColumn(frame.body(), StandardCharsets.US_ASCII));
                case 'E' -> log.warn("{} did not say how many connections it allows ({}); shards.{}.max_connections"
                        + " alone limits them", connection.describe(),
                        ErrorResponse.decode(frame.body()).message(), connection.shard().name());
                case 'Z' -> ready(ctx);
                case 'T', 'C', 'N', 'S' -> { } // the row's description, its tag, a notice or a parameter
                default -> throw violation("message type '" + (char) frame.type() + "'");
            }
        } catch (RuntimeException e) {
            fail(ctx, e instanceof PgException pg ? pg : violation(e.getMessage()));
        } finally {
            frame.release();
        }
    }

    private void ready(ChannelHandlerContext ctx) {
        ctx.pipeline().remove(this);
        if (limit >= 0) {
            learnt.accept(limit);
        }
        promise.trySuccess(connection);
    }

    private static int number(String text) {
        if (text == null || text.isEmpty() || text.length() > 10 || !text.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("a DataRow whose first column is not a number: " + text);
        }
        return Integer.parseInt(text);
    }

    private PgException violation(String what) {
        return PgException.fatal(SqlState.PROTOCOL_VIOLATION, connection.describe()
                + " answered the question of its connection limit unexpectedly: " + what);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, PgException.fatal(SqlState.CONNECTION_FAILURE, connection.describe()
                + " closed the connection right after login"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause instanceof PgException pg ? pg : PgException.fatal(SqlState.CONNECTION_FAILURE,
                connection.describe() + " failed right after login: " + cause.getMessage()));
    }

    private void fail(ChannelHandlerContext ctx, PgException error) {
        if (promise.tryFailure(error)) {
            ctx.close();
        }
    }
}
