package io.pgstitch.proxy.admin.console;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.backend.AuthenticationOk;
import io.pgstitch.protocol.backend.CommandComplete;
import io.pgstitch.protocol.backend.EmptyQueryResponse;
import io.pgstitch.protocol.backend.ErrorField;
import io.pgstitch.protocol.backend.NoticeResponse;
import io.pgstitch.protocol.backend.ParameterStatus;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.proxy.admin.AdminException;
import io.pgstitch.proxy.admin.AdminService;
import io.pgstitch.proxy.admin.Table;
import io.pgstitch.proxy.frontend.ConsoleClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One admin console session, in place of the relay: the simple query protocol only. A Query's statements (split
 * at {@code ;}) run one after the other on the admin thread; meanwhile the client is not read, and its answer
 * (results, or the first error, then ReadyForQuery) is written back on its event loop. Extended-protocol messages
 * get one ERROR 0A000 and are skipped until Sync, answered with ReadyForQuery, as after any error.
 */
final class ConsoleSession extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ConsoleSession.class);
    private static final String FEATURE_NOT_SUPPORTED = "0A000";
    private static final String PROTOCOL_VIOLATION = "08P01";
    private static final String INTERNAL_ERROR = "XX000";

    private final ConsoleClient client;
    private final ConsoleCommands commands;
    private final AdminService admin;
    private final ArrayDeque<Frame> waiting = new ArrayDeque<>();
    private boolean running;
    private boolean skippingUntilSync;

    ConsoleSession(ConsoleClient client, ConsoleCommands commands, AdminService admin) {
        this.client = client;
        this.commands = commands;
        this.admin = admin;
    }

    /** Logged in: what a PostgreSQL client needs to hear before its first query. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        client.onClose(this::released);
        client.send(AuthenticationOk.INSTANCE);
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("server_version", admin.views().version() + "/pgstitch");
        parameters.put("server_encoding", "UTF8");
        parameters.put("client_encoding", "UTF8");
        parameters.put("DateStyle", "ISO, MDY");
        parameters.put("TimeZone", "UTC");
        parameters.put("integer_datetimes", "on");
        parameters.put("standard_conforming_strings", "on");
        parameters.put("application_name", client.applicationName());
        parameters.forEach((name, value) -> client.send(new ParameterStatus(name, value)));
        client.send(ReadyForQuery.IDLE);
        client.channel().flush();
        log.info("admin console: user {} from {} (client {})", client.userName(), client.remoteAddress(),
                client.id());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame frame = (Frame) msg;
        if (running) {
            waiting.add(frame);
            return;
        }
        handle(frame);
    }

    private void handle(Frame frame) {
        byte type = frame.type();
        String text = null;
        try {
            switch (type) {
                case 'X' -> {
                    client.close();
                    return;
                }
                case 'Q' -> text = Query.decode(frame.body()).sql();
                case 'S' -> {
                    skippingUntilSync = false;
                    client.send(ReadyForQuery.IDLE);
                    client.channel().flush();
                    return;
                }
                case 'P', 'B', 'D', 'E', 'C', 'H', 'F' -> {
                    if (!skippingUntilSync) {
                        skippingUntilSync = true;
                        sendError(PgException.error(FEATURE_NOT_SUPPORTED, "the admin console speaks the simple "
                                + "query protocol only").withHint("With PgJDBC, connect with preferQueryMode=simple."));
                        client.channel().flush();
                    }
                    return;
                }
                default -> throw PgException.fatal(PROTOCOL_VIOLATION, "unexpected message type " + (char) type
                        + " on the admin console");
            }
        } finally {
            frame.release();
        }
        run(text);
    }

    private void run(String text) {
        running = true;
        client.channel().config().setAutoRead(false);
        List<String> statements = statements(text);
        List<ConsoleReply> replies = new ArrayList<>();
        runFrom(statements, 0, replies);
    }

    /** Runs statement {@code index} and those after it, stopping at the first error, as PostgreSQL does. */
    private void runFrom(List<String> statements, int index, List<ConsoleReply> replies) {
        if (index == statements.size()) {
            answer(replies, null);
            return;
        }
        CompletableFuture<ConsoleReply> reply;
        try {
            reply = commands.run(statements.get(index));
        } catch (RuntimeException e) {
            reply = CompletableFuture.failedFuture(e);
        }
        reply.whenComplete((done, failure) -> client.channel().eventLoop().execute(() -> {
            if (failure != null) {
                answer(replies, failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure);
            } else {
                replies.add(done);
                runFrom(statements, index + 1, replies);
            }
        }));
    }

    private void answer(List<ConsoleReply> replies, Throwable failure) {
        if (client.isClosed()) {
            return;
        }
        boolean shutdown = false;
        for (ConsoleReply reply : replies) {
            write(reply);
            shutdown |= reply instanceof ConsoleReply.Done done && done.tag().equals("SHUTDOWN");
        }
        if (failure != null) {
            sendError(asError(failure));
        }
        client.send(ReadyForQuery.IDLE);
        client.channel().flush();
        if (shutdown) {
            admin.shutdown();
        }
        running = false;
        while (!running && !waiting.isEmpty() && !client.isClosed()) {
            handle(waiting.poll());
        }
        if (!running && !client.isClosed()) {
            client.channel().config().setAutoRead(true);
        }
    }

    private void write(ConsoleReply reply) {
        if (reply instanceof ConsoleReply.Rows rows) {
            Table table = rows.table();
            client.send(ResultMessages.rowDescription(client.channel().alloc(), table));
            for (Object[] row : table.rows()) {
                client.send(ResultMessages.dataRow(client.channel().alloc(), row));
            }
            client.send(new CommandComplete("SHOW"));
        } else if (reply instanceof ConsoleReply.Done done) {
            client.send(new CommandComplete(done.tag()));
        } else if (reply instanceof ConsoleReply.Notice notice) {
            Map<Character, String> fields = new LinkedHashMap<>();
            fields.put(ErrorField.SEVERITY, "NOTICE");
            fields.put(ErrorField.SEVERITY_NONLOCALIZED, "NOTICE");
            fields.put(ErrorField.CODE, "00000");
            fields.put(ErrorField.MESSAGE, notice.message());
            fields.put(ErrorField.DETAIL, notice.detail());
            client.send(new NoticeResponse(fields));
            client.send(new CommandComplete(notice.tag()));
        } else {
            client.send(EmptyQueryResponse.INSTANCE);
        }
    }

    private static PgException asError(Throwable failure) {
        if (failure instanceof AdminException admin) {
            PgException error = PgException.error(admin.sqlState(), admin.getMessage());
            if (!admin.problems().isEmpty()) {
                error = error.withDetail(String.join("\n", admin.problems()));
            }
            return admin.hint() == null ? error : error.withHint(admin.hint());
        }
        log.error("admin console command failed", failure);
        return PgException.error(INTERNAL_ERROR, "internal error in pgstitch: " + failure);
    }

    private void sendError(PgException error) {
        client.send(error.toErrorResponse());
    }

    /** The console's grammar has no strings or comments, so statements end at each {@code ;}. */
    static List<String> statements(String text) {
        List<String> statements = new ArrayList<>();
        for (String part : text.split(";", -1)) {
            if (!part.isBlank() || statements.isEmpty()) {
                statements.add(part);
            }
        }
        if (statements.size() > 1 && statements.get(0).isBlank()) {
            statements.remove(0);
        }
        return statements;
    }

    private void released() {
        while (!waiting.isEmpty()) {
            waiting.poll().release();
        }
    }
}
