package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgstitch.protocol.BackendFrameDecoder;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.CommandComplete;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.NoticeResponse;
import io.pgstitch.protocol.backend.ParameterStatus;

import java.util.List;
import java.util.Map;

/**
 * Reads the answers to an HTTP request's Query (or extended-protocol statement) on the client's end of its
 * session and turns them into {@link ResultEvents}. The statements of the text are matched to the answers in
 * order: each CommandComplete, EmptyQueryResponse or ErrorResponse ends the current one, and the next one starts
 * as it ends (PostgreSQL and the proxy's stitching run them back to back), so a client sees a statement start
 * while the one before it has just finished, a long RPC call included.
 *
 * <p>Idle (no request): ParameterStatus and NoticeResponse are taken, a FATAL ErrorResponse precedes the end.
 * Running: RowDescription, DataRow, CommandComplete, EmptyQueryResponse, ErrorResponse, NoticeResponse,
 * ParameterStatus, NotificationResponse (dropped), ParseComplete, BindComplete, NoData, COPY messages (a COPY
 * FROM STDIN gets CopyFail, COPY TO STDOUT data is dropped) and ReadyForQuery, which ends the request.
 */
final class ResultReader extends ChannelInboundHandlerAdapter {

    static final String NAME = "results";
    /** The limit on what the session's decoder reads whole. */
    static final String MESSAGE_SIZE_SETTING = "listen.max_message_size";

    /** The session's parameters, kept up to date from ParameterStatus. */
    private final Map<String, String> parameters;
    /** Null while idle. */
    private ResultEvents events;
    private List<Statements.Span> spans;
    private int statement;
    private boolean started;
    private boolean failed;
    private Columns columns;

    ResultReader(Map<String, String> parameters) {
        this.parameters = parameters;
    }

    /**
     * The decoder of the session's client end: every message whole (each DataRow becomes JSON, so a value must be
     * had in one piece), of any length up to {@code maxMessageSize}; beyond it, the request fails with 54000.
     */
    static BackendFrameDecoder decoder(int maxMessageSize) {
        return BackendFrameDecoder.readingWhole(maxMessageSize);
    }

    boolean busy() {
        return events != null;
    }

    /** A request was sent: its answers go to {@code events}. */
    void begin(ResultEvents events, List<Statements.Span> spans) {
        if (this.events != null) {
            throw new IllegalStateException("a request is running on this session already");
        }
        this.events = events;
        this.spans = spans;
        statement = 0;
        failed = false;
        columns = null;
        started = false;
        if (!spans.isEmpty()) {
            start();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame frame = (Frame) msg;
        try {
            read(ctx, frame);
        } finally {
            frame.release();
        }
    }

    private void read(ChannelHandlerContext ctx, Frame frame) {
        byte type = frame.type();
        switch (type) {
            case 'S' -> {
                ParameterStatus parameter = ParameterStatus.decode(frame.body());
                parameters.put(parameter.name(), parameter.value());
                return;
            }
            case 'N' -> {
                if (events != null) {
                    events.notice(started ? statement : -1, NoticeResponse.decode(frame.body()));
                }
                return;
            }
            case 'A' -> {
                return; // LISTEN's notifications: nobody to give them to
            }
            default -> {
            }
        }
        if (events == null) {
            if (type != ErrorResponse.TYPE) { // a FATAL ahead of the session's end is expected; the rest is not
                throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "unexpected message type "
                        + Buffers.describeByte(type) + " while no request runs");
            }
            return;
        }
        switch (type) {
            case 'T' -> {
                startIfNeeded();
                columns = Columns.decode(frame.body());
                events.columns(statement, columns);
            }
            case 'D' -> {
                if (columns == null) {
                    throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "DataRow without RowDescription");
                }
                ByteBuf rows = frame.content();
                events.rows(statement, rows, frame.messageCount(), columns);
            }
            case 'C' -> {
                startIfNeeded();
                events.statementDone(statement, CommandComplete.decode(frame.body()).tag());
                next();
            }
            case 'I' -> { // EmptyQueryResponse: a text without statements
                if (started) {
                    events.statementDone(statement, null);
                    next();
                }
            }
            case 'E' -> {
                ErrorResponse error = ErrorResponse.decode(frame.body());
                startIfNeeded();
                failed = true;
                started = false;
                events.error(statement, error);
            }
            case 'G' -> { // CopyInResponse: there is no data to send over HTTP
                ByteBuf fail = ctx.alloc().buffer();
                int length = Buffers.beginMessage(fail, 'f');
                Buffers.writeCString(fail, "COPY FROM STDIN is not supported over HTTP");
                Buffers.endMessage(fail, length);
                ctx.writeAndFlush(fail, ctx.voidPromise());
            }
            case 'Z' -> {
                ResultEvents done = events;
                events = null;
                done.done();
            }
            case '1', '2', 'n', 'H', 'd', 'c' -> {
                // ParseComplete, BindComplete, NoData; COPY TO STDOUT's response and data
            }
            default -> throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "unexpected message type "
                    + Buffers.describeByte(type) + " in a request's results");
        }
    }

    private void start() {
        started = true;
        events.statementStarted(statement, statement < spans.size() ? spans.get(statement) : null);
    }

    /** More answers than the text had statements (the split and the server disagree): still reported. */
    private void startIfNeeded() {
        if (!started && !failed) {
            start();
        }
    }

    /** The current statement ended well: the next one, if the text has one, is running now. */
    private void next() {
        statement++;
        started = false;
        columns = null;
        if (statement < spans.size()) {
            start();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (events != null) {
            events.flush();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        end(PgException.fatal(SqlState.CONNECTION_FAILURE, "the session ended before the request was answered"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        PgException error = cause instanceof PgException pg ? pg : cause.getCause() instanceof PgException pg ? pg
                : PgException.fatal(SqlState.INTERNAL_ERROR, "reading the session's results failed: " + cause);
        if (SqlState.PROGRAM_LIMIT_EXCEEDED.equals(error.sqlState())) {
            error = PgException.fatal(SqlState.PROGRAM_LIMIT_EXCEEDED, "a result message is longer than "
                    + MESSAGE_SIZE_SETTING + " allows: " + error.getMessage()).withHint("Raise "
                    + MESSAGE_SIZE_SETTING + ", or select the value in parts (substring, or COPY over a PostgreSQL"
                    + " connection).");
        }
        end(error);
        ctx.close();
    }

    private void end(PgException error) {
        if (events != null) {
            ResultEvents failing = events;
            events = null;
            failing.failed(error);
        }
    }
}
