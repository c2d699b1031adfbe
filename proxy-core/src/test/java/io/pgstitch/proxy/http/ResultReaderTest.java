package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.backend.CommandComplete;
import io.pgstitch.protocol.backend.EmptyQueryResponse;
import io.pgstitch.protocol.backend.ErrorField;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.NoticeResponse;
import io.pgstitch.protocol.backend.ParameterStatus;
import io.pgstitch.protocol.backend.ReadyForQuery;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ResultReaderTest {

    /** Records every event as a line. */
    private static final class Recorder implements ResultEvents {
        final List<String> events = new ArrayList<>();

        @Override
        public void statementStarted(int index, Statements.Span statement) {
            events.add("started " + index + (statement == null ? "" : " " + statement.start() + "-" + statement.end()));
        }

        @Override
        public void columns(int index, Columns columns) {
            events.add("columns " + index + " " + columns.list().get(0).name());
        }

        @Override
        public void rows(int index, ByteBuf dataRows, int count, Columns columns) {
            JsonOut out = new JsonOut();
            JsonValues.writeRows(out, dataRows, count, columns);
            events.add("rows " + index + " " + out);
        }

        @Override
        public void notice(int index, NoticeResponse notice) {
            events.add("notice " + index + " " + notice.message());
        }

        @Override
        public void statementDone(int index, String command) {
            events.add("done " + index + " " + command);
        }

        @Override
        public void error(int index, ErrorResponse error) {
            events.add("error " + index + " " + error.sqlState());
        }

        @Override
        public void done() {
            events.add("ready");
        }

        @Override
        public void failed(PgException error) {
            events.add("failed " + error.sqlState() + (error.sqlState().equals("54000") ? " " + error.getMessage()
                    : ""));
        }

        @Override
        public void flush() {
        }
    }

    private final Map<String, String> parameters = new HashMap<>();
    private final ResultReader reader = new ResultReader(parameters);
    private final EmbeddedChannel channel = new EmbeddedChannel(ResultReader.decoder(1 << 20), reader);
    private final Recorder recorder = new Recorder();

    private void receive(ByteBuf... messages) {
        channel.writeInbound(Unpooled.wrappedBuffer(messages));
    }

    private static ByteBuf encoded(io.pgstitch.protocol.backend.BackendMessage message) {
        ByteBuf out = Unpooled.buffer();
        message.encode(out);
        return out;
    }

    private static ByteBuf rowDescription(String name, int type) {
        ByteBuf body = JsonValuesTest.rowDescription(name, type);
        ByteBuf out = Unpooled.buffer();
        int length = Buffers.beginMessage(out, 'T');
        out.writeBytes(body);
        body.release();
        Buffers.endMessage(out, length);
        return out;
    }

    private static ByteBuf dataRow(String... values) {
        ByteBuf out = Unpooled.buffer();
        JsonValuesTest.dataRow(out, values);
        return out;
    }

    private static ByteBuf error(String code, String severity) {
        return encoded(new ErrorResponse(Map.of(ErrorField.SEVERITY, severity, ErrorField.CODE, code,
                ErrorField.MESSAGE, "boom")));
    }

    @Test
    void eachCompletionEndsAStatementAndTheNextStartsAtOnce() {
        reader.begin(recorder, Statements.of("INSERT INTO t VALUES (1); SELECT a FROM t; SELECT 2", true));
        receive(encoded(new CommandComplete("INSERT 0 1")), rowDescription("a", 23), dataRow("1"), dataRow("2"));
        receive(encoded(new NoticeResponse(Map.of(ErrorField.SEVERITY, "NOTICE", ErrorField.MESSAGE, "hi"))),
                encoded(new CommandComplete("SELECT 2")), rowDescription("b", 25), dataRow("x"),
                encoded(new CommandComplete("SELECT 1")), encoded(new ParameterStatus("TimeZone", "UTC")),
                encoded(ReadyForQuery.IDLE));
        assertThat(recorder.events).containsExactly("started 0 0-25", "done 0 INSERT 0 1", "started 1 26-42",
                "columns 1 a", "rows 1 [1][2]", "notice 1 hi", "done 1 SELECT 2", "started 2 43-51", "columns 2 b",
                "rows 2 [\"x\"]", "done 2 SELECT 1", "ready");
        assertThat(parameters).containsEntry("TimeZone", "UTC");
        assertThat(reader.busy()).isFalse();
    }

    @Test
    void anErrorEndsTheRequestsStatements() {
        reader.begin(recorder, Statements.of("SELECT 1; SELECT 1/0; SELECT 3", true));
        receive(encoded(new CommandComplete("SELECT 1")), error("22012", "ERROR"), encoded(ReadyForQuery.IDLE));
        assertThat(recorder.events).containsExactly("started 0 0-9", "done 0 SELECT 1", "started 1 10-21",
                "error 1 22012", "ready");
    }

    @Test
    void anEmptyTextAndMoreAnswersThanStatements() {
        reader.begin(recorder, Statements.of("  -- nothing", true));
        receive(encoded(EmptyQueryResponse.INSTANCE), encoded(ReadyForQuery.IDLE));
        assertThat(recorder.events).containsExactly("ready");
        recorder.events.clear();
        reader.begin(recorder, Statements.of("SELECT 1", true));
        receive(encoded(new CommandComplete("SELECT 1")), encoded(new CommandComplete("SELECT 1")),
                encoded(ReadyForQuery.IDLE));
        assertThat(recorder.events).containsExactly("started 0 0-8", "done 0 SELECT 1", "started 1",
                "done 1 SELECT 1", "ready");
    }

    @Test
    void copyFromStdinIsRefusedWithCopyFail() {
        reader.begin(recorder, Statements.of("COPY t FROM STDIN", true));
        ByteBuf copyIn = Unpooled.buffer();
        int length = Buffers.beginMessage(copyIn, 'G');
        copyIn.writeByte(0).writeShort(0);
        Buffers.endMessage(copyIn, length);
        receive(copyIn);
        ByteBuf fail = channel.readOutbound();
        assertThat(fail.getByte(0)).isEqualTo((byte) 'f');
        assertThat(fail.toString(5, fail.readableBytes() - 6, StandardCharsets.UTF_8))
                .isEqualTo("COPY FROM STDIN is not supported over HTTP");
        fail.release();
        receive(error("57014", "ERROR"), encoded(ReadyForQuery.IDLE));
        assertThat(recorder.events).containsExactly("started 0 0-17", "error 0 57014", "ready");
    }

    @Test
    void theSessionEndingFailsTheRequest() {
        reader.begin(recorder, Statements.of("SELECT pg_terminate_backend(pg_backend_pid())", true));
        receive(error("57P01", "FATAL"));
        channel.close();
        assertThat(recorder.events).containsExactly("started 0 0-45", "error 0 57P01", "failed 08006");
    }

    @Test
    void whileIdleOnlyParametersNoticesAndAFatalAreExpected() {
        receive(encoded(new ParameterStatus("application_name", "x")),
                encoded(new NoticeResponse(Map.of(ErrorField.MESSAGE, "idle notice"))), error("57P01", "FATAL"));
        assertThat(parameters).containsEntry("application_name", "x");
        assertThat(channel.isOpen()).isTrue();
        receive(encoded(new CommandComplete("SELECT 1")));
        assertThat(channel.isOpen()).isFalse();
        assertThat(recorder.events).isEmpty();
    }

    /** A row over 64 KiB arrives over several reads, as from a socket: it is one DataRow all the same. */
    @Test
    void aLargeRowArrivingPiecewiseIsReadWhole() {
        reader.begin(recorder, Statements.of("SELECT repeat('x', 200000)", true));
        ByteBuf all = Unpooled.wrappedBuffer(rowDescription("repeat", 25), dataRow("x".repeat(200_000)),
                encoded(new CommandComplete("SELECT 1")), encoded(ReadyForQuery.IDLE));
        while (all.isReadable()) {
            channel.writeInbound(all.readRetainedSlice(Math.min(all.readableBytes(), 60_000)));
        }
        all.release();
        assertThat(recorder.events).containsExactly("started 0 0-26", "columns 0 repeat",
                "rows 0 [\"" + "x".repeat(200_000) + "\"]", "done 0 SELECT 1", "ready");
    }

    @Test
    void aRowOverTheMessageSizeLimitFailsTheRequestNamingTheLimit() {
        reader.begin(recorder, Statements.of("SELECT repeat('x', 2000000)", true));
        receive(rowDescription("repeat", 25), Unpooled.buffer().writeByte('D').writeInt(4 + (2 << 20)));
        assertThat(recorder.events).containsExactly("started 0 0-27", "columns 0 repeat", "failed 54000 a result "
                + "message is longer than listen.max_message_size allows: server message 'D' of length 2097156 is "
                + "longer than the 1048576 bytes allowed for a message pgstitch reads whole");
        assertThat(channel.isOpen()).isFalse();
    }
}
