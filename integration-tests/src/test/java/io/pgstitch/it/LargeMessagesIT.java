package io.pgstitch.it;

import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.util.PSQLWarning;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Large messages through pgstitch against real PostgreSQL: a 64 MiB row, COPY row and statement parameter arrive
 * intact (a hash computed by the server equals the client's); while one is paused half-way, the proxy holds only a
 * few buffers of it and another client is answered; a client that leaves in the middle of a row has its backend
 * closed at once. With RPC functions configured, the Query, Parse and Bind messages pgstitch reads are refused
 * beyond {@code listen.max_message_size}, and so is a shard's ErrorResponse, while data still streams at any size.
 * {@code -Dit.large.mib=256} runs the large cases at 256 MiB.
 */
class LargeMessagesIT extends ProxiedTest {

    private static final int SIZE = Integer.getInteger("it.large.mib", 64) << 20;
    /** Bytes of a paused large message the proxy may hold: a few reads and the client's write buffer. */
    private static final long HELD_LIMIT = 16L << 20;
    private static final int LIMIT = 1 << 20;
    /** Builds a text of {@code $1} bytes on the server: md5 digests of 1, 2, 3... (32 bytes each). */
    private static final String TEXT_OF = "select string_agg(md5(i::text), '') from generate_series(1, %d) i";

    /** Reads Query, Parse and Bind (RPC functions are configured) up to 1 MiB. */
    static TestProxy inspecting;

    @BeforeAll
    static void startInspectingProxy() throws Exception {
        inspecting = TestProxy.start(TestProxy.config(cluster, """
                routes: { tenant_a: shard1 }
                default_route: reject
                rpc: { functions: ["iasql_*"] }
                """).replace("port: 0 }", "port: 0, max_message_size: 1MB }"));
    }

    @AfterAll
    static void stopInspectingProxy() {
        if (inspecting != null) {
            inspecting.close();
        }
    }

    @Test
    void aLargeRowStreamsToAPausedReaderWhileAnotherClientIsAnswered() throws Exception {
        try (Socket socket = loggedIn(proxy.port())) {
            long before = bufferMemory();
            DataInputStream in = sendQuery(socket, "select v, md5(v) from (" + TEXT_OF.formatted(SIZE / 32) + ") s(v)");
            int length = startOfFirstColumn(in);
            assertThat(length).isEqualTo(SIZE);
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            digest(in, md5, 1 << 20); // 1 MiB of the row, then a pause

            assertThat(waitingToWrite("select v, md5(v)%")).as("PostgreSQL is still sending the row").isTrue();
            assertThat(selectOne(proxy.connect("tenant_a"))).as("another client is answered meanwhile").isEqualTo(1);
            long held = bufferMemory() - before;
            System.out.printf("large row: paused after 1 MiB of a %d MiB row; the proxy holds %.1f MiB%n",
                    SIZE >> 20, held / 1048576.0);
            assertThat(held).as("bytes of the paused row the proxy holds").isLessThan(HELD_LIMIT);

            digest(in, md5, length - (1 << 20));
            int hashLength = in.readInt();
            String serverHash = new String(in.readNBytes(hashLength), StandardCharsets.US_ASCII);
            assertThat(HexFormat.of().formatHex(md5.digest())).isEqualTo(serverHash);
            readUntilReady(in);
        }
    }

    @Test
    void aClientThatLeavesInTheMiddleOfARowHasItsBackendClosed() throws Exception {
        int pid;
        try (Socket socket = loggedIn(proxy.port())) {
            DataInputStream in = sendQuery(socket, "select v as leaving from (" + TEXT_OF.formatted(SIZE / 32) + ") s(v)");
            startOfFirstColumn(in);
            in.readNBytes(1 << 20);
            assertThat(waitingToWrite("select v as leaving%")).isTrue();
            pid = backendPid("select v as leaving%");
        } // gone half-way through the row: the backend's state is unknown, it is closed rather than drained
        boolean gone = false;
        for (int i = 0; i < 600 && !gone; i++) {
            Thread.sleep(50);
            gone = !backendExists(pid);
        }
        assertThat(gone).as("the backend of a client that left mid-row is closed").isTrue();
        assertThat(selectOne(proxy.connect("tenant_a"))).isEqualTo(1);
    }

    @Test
    void aLargeByteaThroughPgJdbc() throws Exception {
        try (Connection connection = proxy.connect("tenant_a");
             ResultSet rs = connection.createStatement().executeQuery("select v, md5(v) from (select convert_to(("
                     + TEXT_OF.formatted(SIZE / 32) + "), 'UTF8')) s(v)")) {
            assertThat(rs.next()).isTrue();
            byte[] value = rs.getBytes(1);
            assertThat(value).hasSize(SIZE);
            assertThat(md5(value)).isEqualTo(rs.getString(2));
        }
    }

    /** One CopyData message of 64 MiB, paused half-way, then finished: the row arrives whole. */
    @Test
    void aLargeCopyDataMessageStreamsToTheServer() throws Exception {
        byte[] row = text(SIZE);
        try (Socket socket = loggedIn(proxy.port())) {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            sendQuery(socket, "create temp table big (v text)");
            readUntilReady(in);
            sendQuery(socket, "copy big from stdin");
            in.readNBytes(readUntil(in, 'G') - 4); // CopyInResponse
            long before = bufferMemory();
            out.write(ByteBuffer.allocate(5).put((byte) 'd').putInt(4 + row.length + 1).array());
            out.write(row, 0, row.length / 2);
            out.flush();
            assertThat(selectOne(proxy.connect("tenant_a"))).as("another client is answered meanwhile").isEqualTo(1);
            long held = bufferMemory() - before;
            System.out.printf("large CopyData: paused half-way through %d MiB; the proxy holds %.1f MiB%n",
                    SIZE >> 20, held / 1048576.0);
            assertThat(held).as("bytes of the half-sent message the proxy holds").isLessThan(HELD_LIMIT);
            out.write(row, row.length / 2, row.length - row.length / 2);
            out.write(new byte[] {'\n', 'c', 0, 0, 0, 4});
            out.flush();
            readUntilReady(in);
            sendQuery(socket, "select md5(v) from big");
            assertThat(startOfFirstColumn(in)).isEqualTo(32);
            assertThat(new String(in.readNBytes(32), StandardCharsets.US_ASCII)).isEqualTo(md5(row));
            readUntilReady(in);
        }
    }

    @Test
    void aLargeCopyInThroughPgJdbc() throws Exception {
        byte[] row = text(SIZE);
        try (Connection connection = proxy.connect("tenant_a"); Statement statement = connection.createStatement()) {
            statement.execute("create temp table big (v text)");
            CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn("copy big from stdin");
            copy.writeToCopy(row, 0, row.length); // one CopyData message
            copy.writeToCopy(new byte[] {'\n'}, 0, 1);
            assertThat(copy.endCopy()).isEqualTo(1);
            try (ResultSet rs = statement.executeQuery("select md5(v) from big")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo(md5(row));
            }
        }
    }

    /** A 64 MiB parameter: a Bind message (extended protocol), and a Query with the value inlined (simple). */
    @Test
    void aLargeStatementParameterBothProtocols() throws Exception {
        String value = new String(text(SIZE), StandardCharsets.US_ASCII);
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        for (Properties properties : new Properties[] {new Properties(), simple}) {
            try (Connection connection = proxy.connect("tenant_a", properties);
                 PreparedStatement statement = connection.prepareStatement("select md5(?::text)")) {
                statement.setString(1, value);
                try (ResultSet rs = statement.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo(md5(value.getBytes(StandardCharsets.US_ASCII)));
                }
            }
        }
    }

    // A proxy that reads statements (RPC functions configured), with listen.max_message_size: 1MB

    @Test
    void aQueryUnderTheLimitIsReadWhole() throws Exception {
        byte[] text = text(LIMIT - 1000);
        try (Connection connection = inspecting.connect("tenant_a", simpleProtocol());
             PreparedStatement statement = connection.prepareStatement("select md5(?::text)")) {
            statement.setString(1, new String(text, StandardCharsets.US_ASCII));
            try (ResultSet rs = statement.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo(md5(text));
            }
        }
    }

    @Test
    void aQueryOverTheLimitIsAnErrorAndTheSessionGoesOn() throws Exception {
        try (Connection connection = inspecting.connect("tenant_a", simpleProtocol())) {
            Statement statement = connection.createStatement();
            statement.execute("begin");
            String query = "select md5('" + new String(text(2 * LIMIT), StandardCharsets.US_ASCII) + "')";
            assertThatThrownBy(() -> statement.execute(query))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("54000"))
                    .hasMessageContaining("Query message of " + (4 + query.length() + 1)
                            + " bytes exceeds listen.max_message_size (1048576 bytes)");
            assertThatThrownBy(() -> statement.execute("select 1")).as("the transaction block is aborted")
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("25P02"));
            statement.execute("rollback");
            assertThat(selectOne(connection)).isEqualTo(1);
        }
    }

    @Test
    void aBindOverTheLimitEndsTheSession() throws Exception {
        try (Connection connection = inspecting.connect("tenant_a");
             PreparedStatement statement = connection.prepareStatement("select md5(?::text)")) {
            statement.setString(1, new String(text(2 * LIMIT), StandardCharsets.US_ASCII));
            assertThatThrownBy(statement::executeQuery)
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("54000"))
                    .hasMessageContaining("Bind message of ")
                    .hasMessageContaining("exceeds listen.max_message_size (1048576 bytes)");
            assertThat(connection.isValid(5)).isFalse();
        }
    }

    @Test
    void dataStreamsAtAnySizeWhenStatementsAreRead() throws Exception {
        byte[] row = text(4 * LIMIT);
        try (Connection connection = inspecting.connect("tenant_a"); Statement statement = connection.createStatement()) {
            try (ResultSet rs = statement.executeQuery("select v, md5(v) from (" + TEXT_OF.formatted(LIMIT / 8)
                    + ") s(v)")) {
                assertThat(rs.next()).isTrue();
                assertThat(md5(rs.getString(1).getBytes(StandardCharsets.US_ASCII))).isEqualTo(rs.getString(2));
            }
            statement.execute("create temp table big (v text)");
            CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn("copy big from stdin");
            copy.writeToCopy(row, 0, row.length);
            copy.writeToCopy(new byte[] {'\n'}, 0, 1);
            assertThat(copy.endCopy()).isEqualTo(1);
            try (ResultSet rs = statement.executeQuery("select md5(v) from big")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo(md5(row));
            }
            statement.execute("do $$ begin raise notice '%', repeat('n', " + 2 * LIMIT + "); end $$");
            assertThat(((PSQLWarning) statement.getWarnings()).getServerErrorMessage().getMessage())
                    .as("a notice is relayed at any size").hasSize(2 * LIMIT);
        }
    }

    @Test
    void aShardErrorOverTheLimitIsTheClientsFatalNamingTheShard() throws Exception {
        try (Connection connection = inspecting.connect("tenant_a"); Statement statement = connection.createStatement()) {
            assertThatThrownBy(() -> statement.execute("do $$ begin raise exception '%', repeat('e', "
                    + 2 * LIMIT + "); end $$"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("54000"))
                    .hasMessageContaining("shard \"shard1\"")
                    .hasMessageContaining("sent a message longer than listen.max_message_size allows: server "
                            + "message 'E' of length");
            assertThat(connection.isValid(5)).isFalse();
        }
    }

    // helpers

    private static Properties simpleProtocol() {
        Properties simple = new Properties();
        simple.setProperty("preferQueryMode", "simple");
        return simple;
    }

    /** {@code length} bytes of md5 digests of 1, 2, 3..., as {@link #TEXT_OF} (not necessarily whole digests). */
    private static byte[] text(int length) throws Exception {
        byte[] out = new byte[length];
        MessageDigest md5 = MessageDigest.getInstance("MD5");
        HexFormat hex = HexFormat.of();
        for (int i = 1, at = 0; at < length; i++) {
            byte[] digest = hex.formatHex(md5.digest(Integer.toString(i).getBytes(StandardCharsets.US_ASCII)))
                    .getBytes(StandardCharsets.US_ASCII);
            int n = Math.min(digest.length, length - at);
            System.arraycopy(digest, 0, out, at, n);
            at += n;
        }
        return out;
    }

    private static String md5(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
    }

    private static Socket loggedIn(int port) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setReceiveBufferSize(64 * 1024);
        RawClient client = RawClient.wrap(socket);
        socket.setSoTimeout(120_000); // after wrap, which sets its own

        client.sendStartup(Map.of("user", "postgres", "database", "tenant_a"));
        client.readUntil('Z');
        return socket;
    }

    private static DataInputStream sendQuery(Socket socket, String sql) throws IOException {
        byte[] text = (sql + "\0").getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(ByteBuffer.allocate(5).put((byte) 'Q').putInt(4 + text.length).array());
        out.write(text);
        out.flush();
        return new DataInputStream(socket.getInputStream());
    }

    /** Reads up to the first DataRow's first column and returns that column's length. */
    private static int startOfFirstColumn(DataInputStream in) throws IOException {
        readUntil(in, 'D');
        in.readShort();
        return in.readInt();
    }

    /** Reads messages up to the header of one of {@code type}, whose body is left unread; returns its length. */
    private static int readUntil(DataInputStream in, char type) throws IOException {
        while (true) {
            char read = (char) in.readUnsignedByte();
            int length = in.readInt();
            if (read == type) {
                return length;
            }
            byte[] body = in.readNBytes(length - 4);
            if (read == 'E') {
                throw new AssertionError("server error: " + new String(body, StandardCharsets.UTF_8));
            }
        }
    }

    private static void readUntilReady(DataInputStream in) throws IOException {
        readUntil(in, 'Z');
        in.readByte();
    }

    private static void digest(DataInputStream in, MessageDigest md5, long bytes) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        while (bytes > 0) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, bytes));
            if (n < 0) {
                throw new AssertionError("the row ended early");
            }
            md5.update(buffer, 0, n);
            bytes -= n;
        }
    }

    private static int selectOne(Connection connection) throws SQLException {
        try (connection; ResultSet rs = connection.createStatement().executeQuery("select 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Pooled buffer memory of this JVM, where the proxy runs: direct and heap arenas. */
    private static long bufferMemory() {
        var metric = PooledByteBufAllocator.DEFAULT.metric();
        return metric.usedDirectMemory() + metric.usedHeapMemory();
    }

    private static Connection direct() throws SQLException {
        return DriverManager.getConnection(cluster.shard(1).jdbcUrl("tenant_a"), "postgres", "");
    }

    /** Whether the backend running {@code query} (a LIKE pattern) waits to write to its client; polls for 30 s. */
    private static boolean waitingToWrite(String query) throws Exception {
        for (int i = 0; i < 600; i++) {
            try (Connection direct = direct(); PreparedStatement statement = direct.prepareStatement(
                    "select count(*) from pg_stat_activity where query like ? and wait_event = 'ClientWrite'")) {
                statement.setString(1, query);
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) == 1) {
                        return true;
                    }
                }
            }
            Thread.sleep(50);
        }
        return false;
    }

    private static int backendPid(String query) throws SQLException {
        try (Connection direct = direct(); PreparedStatement statement = direct.prepareStatement(
                "select pid from pg_stat_activity where query like ?")) {
            statement.setString(1, query);
            try (ResultSet rs = statement.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getInt(1);
            }
        }
    }

    private static boolean backendExists(int pid) throws SQLException {
        try (Connection direct = direct(); ResultSet rs = direct.createStatement().executeQuery(
                "select count(*) from pg_stat_activity where pid = " + pid)) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }
}
