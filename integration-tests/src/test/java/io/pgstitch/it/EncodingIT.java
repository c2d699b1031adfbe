package io.pgstitch.it;

import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Text in every client_encoding PostgreSQL accepts reaches it through a stitched batch byte for byte: what
 * pgstitch stores, on the session backend and through an RPC call, is what a direct connection stores; bytes
 * that are not valid in the encoding are refused by PostgreSQL with 22021, as directly; and an error of an RPC
 * statement names the client's statement. Clients are psql and a raw socket client, since PgJDBC always
 * speaks UTF8.
 */
@ExtendWith(PostgresExtension.class)
class EncodingIT {

    private static final String DB = "encoding_it";
    /**
     * Characters to store. The first ones have an ASCII second byte in the client-only encodings (97 5C in SJIS,
     * A4 5C in BIG5, 81 5C in GBK and GB18030, 81 41 in UHC).
     */
    private static final List<String> CANDIDATES = List.of("予", "么", "乗", "갂", "é", "ß", "Ж", "Ω", "א", "ب",
            "ก", "ă", "ą", "ā", "ŵ", "Ё", "表", "한");
    /** Encodings whose characters can hold a byte that looks like a backslash: the literal must have one. */
    private static final List<String> BACKSLASH_TRAIL = List.of("SJIS", "SHIFT_JIS_2004", "BIG5", "GBK", "GB18030");

    private static PostgresCluster cluster;
    private static TestProxy proxy;

    @BeforeAll
    static void start(PostgresCluster postgres) throws Exception {
        cluster = postgres;
        cluster.shard(1).execute("postgres", "CREATE DATABASE " + DB + " ENCODING 'UTF8' TEMPLATE template0");
        cluster.shard(1).execute(DB, """
                CREATE TABLE enc (encoding text NOT NULL, via text NOT NULL, part text NOT NULL, val text NOT NULL,
                                  pid int NOT NULL);
                CREATE FUNCTION iasql_store(encoding text, via text, val text) RETURNS int LANGUAGE sql AS $$
                  INSERT INTO enc VALUES (encoding, via, 'rpc', val, pg_backend_pid()) RETURNING pid $$;
                CREATE FUNCTION iasql_noop() RETURNS text LANGUAGE sql AS $$ SELECT 'ok' $$;
                """);
        proxy = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres }
                routes:
                  %s: shard1
                rpc: { functions: ["iasql_*"] }
                """.formatted(cluster.shard(1).port(), DB));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Connection direct() throws SQLException {
        return DriverManager.getConnection(cluster.shard(1).jdbcUrl(DB), "postgres", "");
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] cstring(byte[] bytes) {
        return concat(bytes, new byte[] {0});
    }

    /** A raw client logged in to {@code port} with {@code client_encoding}; ready for queries. */
    private static RawClient login(int port, String clientEncoding) throws Exception {
        RawClient client = RawClient.connect(port);
        client.sendStartup(Map.of("user", "postgres", "database", DB, "client_encoding", clientEncoding));
        String reported = null;
        RawClient.Message message;
        do {
            message = client.read();
            assertThat(message.type()).as("login with client_encoding %s", clientEncoding).isNotEqualTo('E');
            if (message.type() == 'S' && new String(message.body(), StandardCharsets.US_ASCII)
                    .startsWith("client_encoding\0")) {
                reported = new String(message.body(), StandardCharsets.US_ASCII).split("\0")[1];
            }
        } while (message.type() != 'Z');
        assertThat(reported).isEqualTo(clientEncoding);
        return client;
    }

    /** Everything the server answers up to ReadyForQuery. */
    private static List<RawClient.Message> untilReady(RawClient client) throws Exception {
        List<RawClient.Message> messages = new ArrayList<>();
        RawClient.Message message;
        do {
            message = client.read();
            messages.add(message);
        } while (message.type() != 'Z');
        return messages;
    }

    private static List<String> errors(List<RawClient.Message> messages) {
        return messages.stream().filter(m -> m.type() == 'E').map(m -> m.sqlState() + " " + m.message()).toList();
    }

    /** Sends {@code sql} as one Query and returns what came back up to ReadyForQuery. */
    private static List<RawClient.Message> query(RawClient client, byte[] sql) throws Exception {
        client.send('Q', cstring(sql));
        return untilReady(client);
    }

    /** A stored row: "via/part", the UTF-8 hex of the value, the pid of the backend that stored it. */
    private record Row(String where, String hex, int pid) {
    }

    private static List<Row> stored(String encoding) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (Connection connection = direct(); PreparedStatement select = connection.prepareStatement(
                "SELECT via || '/' || part, encode(convert_to(val, 'UTF8'), 'hex'), pid FROM enc"
                        + " WHERE encoding = ? ORDER BY via, part")) {
            select.setString(1, encoding);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Row(rs.getString(1), rs.getString(2), rs.getInt(3)));
                }
            }
        }
        return rows;
    }

    private static List<String> storedHex(String encoding) throws SQLException {
        return stored(encoding).stream().map(row -> row.where() + " " + row.hex()).toList();
    }

    /** The client encodings a UTF8 database accepts: those with a conversion to UTF8, and SQL_ASCII. */
    private static List<String> clientEncodings() throws SQLException {
        List<String> names = new ArrayList<>();
        try (Connection connection = direct(); ResultSet rs = connection.createStatement().executeQuery("""
                SELECT pg_encoding_to_char(conforencoding) FROM pg_conversion
                 WHERE contoencoding = pg_char_to_encoding('UTF8')
                UNION SELECT 'UTF8' UNION SELECT 'SQL_ASCII' ORDER BY 1""")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    /**
     * A candidate PostgreSQL converts to {@code encoding} and accepts back, as bytes in it: the first whose second
     * byte is 0x5C, else the first.
     */
    private static byte[] literal(String encoding) throws SQLException {
        byte[] first = null;
        try (Connection connection = direct()) {
            for (String candidate : CANDIDATES) {
                try (PreparedStatement convert = connection.prepareStatement(
                        "SELECT convert_to(?, ?), convert_from(convert_to(?, ?), ?) = ?")) {
                    convert.setString(1, candidate);
                    convert.setString(2, encoding);
                    convert.setString(3, candidate);
                    convert.setString(4, encoding);
                    convert.setString(5, encoding);
                    convert.setString(6, candidate);
                    try (ResultSet rs = convert.executeQuery()) {
                        rs.next();
                        byte[] bytes = rs.getBytes(1);
                        if (rs.getBoolean(2) && bytes.length == 2 && bytes[1] == '\\') {
                            return bytes;
                        }
                        if (rs.getBoolean(2) && first == null) {
                            first = bytes;
                        }
                    }
                } catch (SQLException e) {
                    // untranslatable or refused back: the next candidate
                }
            }
        }
        if (first == null) {
            throw new AssertionError("no candidate character for " + encoding);
        }
        return first;
    }

    @TestFactory
    Stream<DynamicTest> everyClientEncodingKeepsItsBytesThroughAStitchedBatch() throws Exception {
        List<String> encodings = clientEncodings();
        assertThat(encodings).hasSizeGreaterThanOrEqualTo(40)
                .contains("UTF8", "LATIN1", "SJIS", "SHIFT_JIS_2004", "BIG5", "GBK", "UHC", "GB18030", "JOHAB");
        return encodings.stream().map(encoding -> DynamicTest.dynamicTest(encoding, () -> {
            byte[] literal = encoding.equals("SQL_ASCII") ? "é".getBytes(StandardCharsets.UTF_8) : literal(encoding);
            if (BACKSLASH_TRAIL.contains(encoding)) {
                assertThat(literal).as("%s: a second byte 0x5C", encoding).hasSize(2).endsWith((byte) 0x5c);
            }
            for (String via : List.of("direct", "proxy")) {
                // E'...': the 0x5C of a character must not escape the closing quote; then an RPC call with it
                byte[] sql = concat(ascii("insert into enc values ('" + encoding + "', '" + via + "', 'session', E'"),
                        literal, ascii("', pg_backend_pid()); select iasql_store('" + encoding + "', '" + via
                                + "', '"), literal, ascii("');"));
                int port = via.equals("direct") ? cluster.shard(1).port() : proxy.port();
                try (RawClient client = login(port, encoding)) {
                    assertThat(errors(query(client, sql))).as("%s %s", encoding, via).isEmpty();
                }
            }
            List<Row> rows = stored(encoding);
            assertThat(rows).extracting(Row::where)
                    .containsExactly("direct/rpc", "direct/session", "proxy/rpc", "proxy/session");
            assertThat(rows).extracting(Row::hex).as("%s: every value as stored directly", encoding)
                    .containsOnly(rows.get(1).hex());
            assertThat(rows.get(2).pid()).as("%s: the call ran on an RPC connection", encoding)
                    .isNotEqualTo(rows.get(3).pid());
            assertThat(rows.get(0).pid()).isEqualTo(rows.get(1).pid());
        }));
    }

    /** The case: psql with PGCLIENTENCODING=LATIN1 stored "cafï¿½" (636166c3afc2bfc2bd) through pgstitch. */
    @Test
    void latin1ThroughPsqlIsStoredAsDirectly() throws Exception {
        Psql.assumeAvailable();
        Path script = Files.createTempFile("latin1", ".sql");
        try {
            for (String via : List.of("direct", "proxy")) {
                // "\;" makes psql send both statements as one Query
                Files.write(script, concat(ascii("insert into enc values ('LATIN1-psql', '" + via
                        + "', 'session', 'caf"), new byte[] {(byte) 0xe9}, ascii("', 0) \\; select iasql_noop();\n")));
                int port = via.equals("direct") ? cluster.shard(1).port() : proxy.port();
                ProcessResult result = Psql.at("127.0.0.1", port).database(DB).env("PGCLIENTENCODING", "LATIN1")
                        .run("-v", "ON_ERROR_STOP=1", "-f", script.toString());
                assertThat(result.exitCode()).as(result.stderr()).isZero();
            }
        } finally {
            Files.delete(script);
        }
        assertThat(storedHex("LATIN1-psql"))
                .containsExactly("direct/session 636166c3a9", "proxy/session 636166c3a9");
    }

    /** PostgreSQL refuses invalid UTF-8 with 22021; pgstitch once replaced it with U+FFFD and stored that. */
    @Test
    void invalidUtf8IsRefusedAsDirectly() throws Exception {
        for (String via : List.of("direct", "proxy")) {
            byte[] sql = concat(ascii("insert into enc values ('UTF8-invalid', '" + via + "', 'session', 'caf"),
                    new byte[] {(byte) 0xe9}, ascii("', 0); select iasql_noop();"));
            int port = via.equals("direct") ? cluster.shard(1).port() : proxy.port();
            try (RawClient client = login(port, "UTF8")) {
                assertThat(errors(query(client, sql))).as(via).singleElement().satisfies(error -> assertThat(error)
                        .startsWith("22021 invalid byte sequence for encoding \"UTF8\": 0xe9 0x27"));
                assertThat(errors(query(client, ascii("select iasql_noop()")))).as("usable after it").isEmpty();
            }
        }
        assertThat(stored("UTF8-invalid")).isEmpty();
    }

    private static byte[] parse(String name, byte[] query) {
        return concat(cstring(ascii(name)), cstring(query), new byte[] {0, 0});
    }

    /** Bind with text parameters and no result formats. */
    private static byte[] bind(String statement, String... parameters) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(cstring(new byte[0]));
        out.writeBytes(cstring(ascii(statement)));
        out.writeBytes(new byte[] {0, 0});
        out.writeBytes(ByteBuffer.allocate(2).putShort((short) parameters.length).array());
        for (String parameter : parameters) {
            byte[] value = parameter.getBytes(StandardCharsets.UTF_8);
            out.writeBytes(ByteBuffer.allocate(4).putInt(value.length).array());
            out.writeBytes(value);
        }
        out.writeBytes(new byte[] {0, 0});
        return out.toByteArray();
    }

    private static List<RawClient.Message> bindExecuteSync(RawClient client, String statement, String... parameters)
            throws Exception {
        client.send('B', bind(statement, parameters));
        client.send('E', concat(cstring(new byte[0]), new byte[4]));
        client.send('S', new byte[0]);
        return untilReady(client);
    }

    private static String firstValue(List<RawClient.Message> messages) {
        byte[] row = messages.stream().filter(m -> m.type() == 'D').findFirst().orElseThrow().body();
        ByteBuffer buffer = ByteBuffer.wrap(row);
        buffer.getShort();
        byte[] value = new byte[buffer.getInt()];
        buffer.get(value);
        return new String(value, StandardCharsets.UTF_8);
    }

    /**
     * A Bind with one parameter too many for a prepared RPC call: PostgreSQL's error names the client's statement
     * (pgstitch once replayed it as the unnamed statement: {@code prepared statement ""}). The statement can be
     * bound again and again after it: nothing of it stays behind on the pooled RPC connections.
     */
    @Test
    void anRpcStatementsBindErrorNamesTheClientsStatement() throws Exception {
        List<String> expected = null;
        for (String via : List.of("direct", "proxy")) {
            int port = via.equals("direct") ? cluster.shard(1).port() : proxy.port();
            try (RawClient client = login(port, "UTF8")) {
                client.send('P', parse("S_1", ascii("select iasql_noop()")));
                List<String> errors = errors(bindExecuteSync(client, "S_1", "surplus"));
                assertThat(errors).as(via).singleElement().satisfies(error -> assertThat(error).isEqualTo(
                        "08P01 bind message supplies 1 parameters, but prepared statement \"S_1\" requires 0"));
                if (expected == null) {
                    expected = errors;
                }
                assertThat(errors).isEqualTo(expected);
                for (int i = 0; i < 5; i++) {
                    List<RawClient.Message> answer = bindExecuteSync(client, "S_1");
                    assertThat(errors(answer)).as("%s, bound again (%d)", via, i).isEmpty();
                    assertThat(firstValue(answer)).isEqualTo("ok");
                }
            }
        }
    }

    /** A prepared RPC call in LATIN1, run, then bound again (its Parse replayed): both store the client's bytes. */
    @Test
    void aPreparedRpcCallKeepsItsLatin1Bytes() throws Exception {
        try (RawClient client = login(proxy.port(), "LATIN1")) {
            client.send('P', parse("S_latin1", concat(ascii("select iasql_store('LATIN1-ext', 'proxy', 'caf"),
                    new byte[] {(byte) 0xe9}, ascii("')"))));
            assertThat(errors(bindExecuteSync(client, "S_latin1"))).isEmpty();
            assertThat(errors(bindExecuteSync(client, "S_latin1"))).isEmpty();
        }
        assertThat(storedHex("LATIN1-ext")).containsExactly("proxy/rpc 636166c3a9", "proxy/rpc 636166c3a9");
    }
}
