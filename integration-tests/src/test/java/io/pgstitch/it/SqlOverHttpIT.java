package io.pgstitch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.PooledByteBufAllocator;
import io.pgstitch.it.support.Curl;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.protocol.auth.Md5Password;
import io.pgstitch.protocol.auth.ScramVerifier;
import io.pgstitch.proxy.postgres.PostgresServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SQL over HTTP and WebSocket against real PostgreSQL: curl and Java's WebSocket client send scripts that mix
 * plain SQL and RPC calls; the results come back per statement, as the proxy's own splitting and stitching make
 * them. What each shard saw is checked directly. RPC functions here do their work on the RPC connection (which
 * commits on its own), and {@code iasql_wait()} holds until the test opens a gate, so "while the call still
 * runs" is a fact, not a guess about time.
 */
@ExtendWith(PostgresExtension.class)
class SqlOverHttpIT {

    private static final String DB = "http_app";
    private static final String ALICE = "alice-pw";
    private static final String TOKEN = "alice-token-0123456789";
    private static final int MAX_ROWS = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static PostgresServer shard;
    private static TestProxy proxy;
    private static String base;

    @BeforeAll
    static void start(PostgresCluster cluster) throws Exception {
        shard = cluster.shard(1);
        Tenants.create(shard, DB, DB, "shard1");
        shard.execute(DB, """
                CREATE TABLE instance (id serial PRIMARY KEY, name text NOT NULL);
                CREATE TABLE applied (note text NOT NULL, pid int NOT NULL);
                CREATE TABLE gate (opened boolean);
                CREATE FUNCTION iasql_apply() RETURNS text LANGUAGE plpgsql AS $$
                DECLARE n bigint;
                BEGIN
                  SELECT count(*) INTO n FROM instance;
                  INSERT INTO applied VALUES ('instances=' || n, pg_backend_pid());
                  RETURN 'instances=' || n;
                END $$;
                CREATE FUNCTION iasql_wait() RETURNS text LANGUAGE plpgsql AS $$
                BEGIN
                  WHILE NOT EXISTS (SELECT FROM gate) LOOP
                    PERFORM pg_sleep(0.01);
                  END LOOP;
                  RETURN 'instances=' || (SELECT count(*) FROM instance);
                END $$;
                CREATE FUNCTION iasql_fail() RETURNS text LANGUAGE plpgsql AS $$
                BEGIN
                  RAISE EXCEPTION 'the engine refused' USING HINT = 'Fix the module first.';
                END $$;
                """);
        Path users = dir.resolve("users.txt");
        Files.writeString(users, """
                "alice" "%s"
                "bob" "%s"
                "carol" "carol-pw"
                """.formatted(ScramVerifier.fromPassword(ALICE).encoded(), Md5Password.hash("bob", "bob-pw")));
        proxy = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                auth:
                  method: scram-sha-256
                  users_file: '%s'
                  allow_plaintext_password: true
                  rules:
                    - { user: mallory, address: 127.0.0.1/32, method: reject }
                    - { user: bob, method: md5 }
                    - { user: carol, method: password }
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres }
                routes:
                  %s: shard1
                rpc: { functions: ["iasql_*"] }
                http:
                  host: 127.0.0.1
                  port: 0
                  ping_interval: 200ms
                  limits:
                    max_rows: %d
                    max_concurrent_requests: 3
                    max_request_bytes: 65536
                    websocket_idle_timeout: 3s
                  tokens:
                    alice: %s
                """.formatted(users, shard.port(), DB, MAX_ROWS, TOKEN));
        base = "http://127.0.0.1:" + proxy.server().httpAddress().orElseThrow().getPort() + "/v1/databases/";
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @BeforeEach
    void clean() {
        shard.execute(DB, "TRUNCATE instance, applied, gate");
    }

    private static Curl.Response post(String user, String password, String database, String sql, String... args) {
        List<String> all = new ArrayList<>(List.of("-u", user + ":" + password, "-H", "Content-Type: text/plain",
                "--data-binary", "@-"));
        all.addAll(List.of(args));
        return Curl.run(sql, base + database + "/run", all.toArray(String[]::new));
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    private static long scalar(String sql) throws SQLException {
        try (Connection direct = DriverManager.getConnection(shard.jdbcUrl(DB), "postgres", "");
             ResultSet rs = direct.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Polls the shard until {@code sql} counts at least one row; fails after a minute. */
    private static void awaitOnShard(String sql) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (scalar(sql) == 0) {
            assertThat(System.nanoTime()).as("waiting for: " + sql).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    private static final String RUNNING_WAIT = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            + "AND query LIKE '%iasql_wait()%' AND pid <> pg_backend_pid()";

    /** Polls the shard until {@code sql} counts no row; fails after a minute. */
    private static void awaitNoneOnShard(String sql, String why) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (scalar(sql) > 0) {
            assertThat(System.nanoTime()).as(why).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void aScriptWithAnRpcCallThroughCurl() throws Exception {
        Curl.assumeAvailable();
        String script = "INSERT INTO instance (name) VALUES ('web');\nSELECT iasql_apply();\n"
                + "SELECT note, pid <> pg_backend_pid() AS elsewhere FROM applied;";
        Curl.Response response = post("alice", ALICE, DB, script);
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        assertThat(response.header("Content-Type")).startsWith("application/json");
        JsonNode results = json(response.body());
        assertThat(results).hasSize(3);
        assertThat(results.get(0).get("command").asText()).isEqualTo("INSERT 0 1");
        assertThat(results.get(0).has("rows")).isFalse();
        // the RPC connection saw the INSERT: the proxy committed it before the call
        assertThat(results.get(1).get("rows").toString()).isEqualTo("[[\"instances=1\"]]");
        assertThat(results.get(1).get("columns").toString())
                .isEqualTo("[{\"name\":\"iasql_apply\",\"type\":\"text\",\"type_oid\":25}]");
        // and the last SELECT sees the call's work, done on another backend
        assertThat(results.get(2).get("rows").toString()).isEqualTo("[[\"instances=1\",true]]");
        assertThat(results.get(2).get("command").asText()).isEqualTo("SELECT 1");
        for (int i = 0; i < 3; i++) {
            JsonNode span = results.get(i).get("statement");
            assertThat(span.get("index").asInt()).isEqualTo(i);
            assertThat(script.substring(span.get("start").asInt(), span.get("end").asInt()))
                    .isEqualTo(script.split("\n")[i]);
            assertThat(results.get(i).get("notices")).isEmpty();
        }
        assertThat(scalar("SELECT count(*) FROM applied WHERE note = 'instances=1'")).isEqualTo(1);
    }

    @Test
    void ndjsonThroughCurlStreamsEventsPerStatement() throws Exception {
        Curl.assumeAvailable();
        Curl.Response response = post("alice", ALICE, DB,
                "INSERT INTO instance (name) VALUES ('a'), ('b'); SELECT iasql_apply(); SELECT name FROM instance "
                        + "ORDER BY id", "-H", "Accept: application/x-ndjson");
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Content-Type")).startsWith("application/x-ndjson");
        List<String> events = new ArrayList<>();
        for (String line : response.body().split("\n")) {
            JsonNode event = json(line);
            events.add(event.get("event").asText() + (event.has("statement") && event.get("statement").isInt()
                    ? " " + event.get("statement").asInt() : ""));
            if (event.get("event").asText().equals("rows") && event.get("statement").asInt() == 2) {
                assertThat(event.get("rows").toString()).isEqualTo("[[\"a\"],[\"b\"]]");
            }
        }
        assertThat(events).containsExactly("statement_started", "statement_done 0", "statement_started",
                "columns 1", "rows 1", "statement_done 1", "statement_started", "columns 2", "rows 2",
                "statement_done 2", "done");
    }

    @Test
    void anErrorMidScriptStopsItAfterCommittingWhatRanBefore() throws Exception {
        Curl.assumeAvailable();
        JsonNode results = json(post("alice", ALICE, DB, "INSERT INTO instance (name) VALUES ('before'); "
                + "SELECT iasql_fail(); INSERT INTO instance (name) VALUES ('after');").body());
        assertThat(results).hasSize(2);
        assertThat(results.get(0).get("command").asText()).isEqualTo("INSERT 0 1");
        JsonNode error = results.get(1).get("error");
        assertThat(error.get("code").asText()).isEqualTo("P0001");
        assertThat(error.get("message").asText()).isEqualTo("the engine refused");
        assertThat(error.get("hint").asText()).isEqualTo("Fix the module first.");
        assertThat(scalar("SELECT count(*) FROM instance WHERE name = 'before'")).isEqualTo(1);
        assertThat(scalar("SELECT count(*) FROM instance WHERE name = 'after'")).isZero();

        // plain SQL: PostgreSQL's own error, with the position in the text
        results = json(post("alice", ALICE, DB, "SELECT 1; SELECT 1/0; SELECT 2").body());
        assertThat(results).hasSize(2);
        assertThat(results.get(1).get("error").get("code").asText()).isEqualTo("22012");
        assertThat(results.get(1).get("statement").get("start").asInt()).isEqualTo(10);
    }

    @Test
    void wrongPasswordMissingCredentialsAndUnknownTokenAre401() throws Exception {
        Curl.assumeAvailable();
        Curl.Response wrong = post("alice", "nope", DB, "SELECT 1");
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.header("WWW-Authenticate")).contains("Basic realm=\"pgstitch\"");
        JsonNode error = json(wrong.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("AUTHENTICATION_FAILED");
        assertThat(error.get("name").asText()).isEqualTo("Authentication failed");
        assertThat(error.get("hint").asText()).isNotBlank();
        assertThat(error.get("sqlstate").asText()).isEqualTo("28P01");

        Curl.Response none = Curl.run("SELECT 1", base + DB + "/run", "--data-binary", "@-");
        assertThat(none.status()).isEqualTo(401);
        assertThat(json(none.body()).get("error").get("code").asText()).isEqualTo("AUTHENTICATION_REQUIRED");

        Curl.Response badToken = Curl.run("SELECT 1", base + DB + "/run", "-H",
                "Authorization: Bearer not-a-token-of-ours", "--data-binary", "@-");
        assertThat(badToken.status()).isEqualTo(401);
        assertThat(json(badToken.body()).get("error").get("code").asText()).isEqualTo("INVALID_TOKEN");
    }

    @Test
    void aRouteThatDoesNotExistIs404NamingTheDatabase() throws Exception {
        Curl.assumeAvailable();
        Curl.Response response = post("alice", ALICE, "no_such_tenant", "SELECT 1");
        assertThat(response.status()).isEqualTo(404);
        JsonNode error = json(response.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("UNKNOWN_DATABASE");
        assertThat(error.get("name").asText()).isEqualTo("Unknown database");
        assertThat(error.get("message").asText()).contains("\"no_such_tenant\"");
        assertThat(error.get("hint").asText()).isNotBlank();
        // a wrong password is told before the route is looked at, as PostgreSQL does
        assertThat(post("alice", "nope", "no_such_tenant", "SELECT 1").status()).isEqualTo(401);
        Curl.Response path = Curl.run("", base.replace("/v1/databases/", "/v2/x"), "-u", "alice:" + ALICE);
        assertThat(path.status()).isEqualTo(404);
        assertThat(json(path.body()).get("error").get("code").asText()).isEqualTo("NOT_FOUND");
    }

    @Test
    void everyMethodTheProxyAsksForIsAnsweredAndRulesSeeTheHttpClient() throws Exception {
        Curl.assumeAvailable();
        assertThat(json(post("bob", "bob-pw", DB, "SELECT 1 AS one").body()).get(0).get("rows").toString())
                .isEqualTo("[[1]]"); // md5
        assertThat(json(post("carol", "carol-pw", DB, "SELECT 2").body()).get(0).get("rows").toString())
                .isEqualTo("[[2]]"); // cleartext
        Curl.Response bearer = Curl.run("SELECT 3", base + DB + "/run", "-H", "Authorization: Bearer " + TOKEN,
                "--data-binary", "@-");
        assertThat(json(bearer.body()).get(0).get("rows").toString()).isEqualTo("[[3]]");
        // the rule names 127.0.0.1: only the HTTP client's real address can match it (a 401 would mean it did not)
        Curl.Response mallory = post("mallory", "whatever", DB, "SELECT 1");
        assertThat(mallory.status()).isEqualTo(403);
        assertThat(json(mallory.body()).get("error").get("message").asText()).contains("127.0.0.1");
    }

    /**
     * HTTPS with listen.tls's (self-signed) certificate; the session sees the HTTP connection's TLS: method password
     * without allow_plaintext_password is refused without TLS (403), so a 200 shows it was seen.
     */
    @Test
    void httpsCarriesItsTlsIntoTheSession() throws Exception {
        Curl.assumeAvailable();
        try (TestProxy https = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0, tls: { mode: prefer } }
                auth: { method: password, users_file: '%s' }
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres }
                routes:
                  %s: shard1
                http: { host: 127.0.0.1, port: 0, tls: true }
                """.formatted(dir.resolve("users.txt"), shard.port(), DB))) {
            String url = "https://127.0.0.1:" + https.server().httpAddress().orElseThrow().getPort()
                    + "/v1/databases/" + DB + "/run";
            Curl.Response response = Curl.run("SELECT 'over tls'", url, "-k", "-u", "carol:carol-pw",
                    "--data-binary", "@-");
            assertThat(response.status()).as(response.body()).isEqualTo(200);
            assertThat(json(response.body()).get(0).get("rows").toString()).isEqualTo("[[\"over tls\"]]");
        }
    }

    @Test
    void valuesBecomeJsonByType() throws Exception {
        Curl.assumeAvailable();
        JsonNode row = json(post("alice", ALICE, DB, """
                SELECT 1::int2, 2::int4, 9007199254740993::int8, 1.10::numeric, 1.5::float8, 'NaN'::float8,
                       true, false, NULL::int4, '{"a": [1, null]}'::jsonb, '"x\\ty"'::json,
                       '2024-01-02 03:04:05'::timestamp, E'tab\there "q"', ARRAY[1, 2]""").body())
                .get(0).get("rows").get(0);
        assertThat(row.toString()).isEqualTo("[1,2,\"9007199254740993\",\"1.10\",1.5,\"NaN\",true,false,null,"
                + "{\"a\":[1,null]},\"x\\ty\",\"2024-01-02 03:04:05\",\"tab\\there \\\"q\\\"\",\"{1,2}\"]");
    }

    @Test
    void aParameterisedStatementAsJson() throws Exception {
        Curl.assumeAvailable();
        Curl.Response response = Curl.run("{\"sql\": \"SELECT $1::int + $2::int AS sum, $3::text IS NULL AS missing\","
                + " \"params\": [40, \"2\", null]}", base + DB + "/run", "-u", "alice:" + ALICE,
                "-H", "Content-Type: application/json", "--data-binary", "@-");
        assertThat(response.status()).as(response.body()).isEqualTo(200);
        JsonNode result = json(response.body()).get(0);
        assertThat(result.get("rows").toString()).isEqualTo("[[42,true]]");
        assertThat(result.get("command").asText()).isEqualTo("SELECT 1");
    }

    @Test
    void limitsAreRefusedWithErrorObjectsNamingThem() throws Exception {
        Curl.assumeAvailable();
        JsonNode results = json(post("alice", ALICE, DB, "SELECT 1; SELECT g FROM generate_series(1, "
                + (MAX_ROWS + 1) + ") g; SELECT 3").body());
        assertThat(results.get(0).get("rows").toString()).isEqualTo("[[1]]");
        JsonNode over = results.get(1).get("error");
        assertThat(over.get("code").asText()).isEqualTo("54000");
        assertThat(over.get("message").asText()).contains("http.limits.max_rows");
        assertThat(results.get(1).get("rows")).isEmpty(); // none of the statement's rows, not some
        // the request is cancelled; a statement that completes before the cancel lands is reported as it ran
        if (results.size() == 3) {
            assertThat(results.get(2).toString()).satisfiesAnyOf(
                    third -> assertThat(third).contains("\"rows\":[[3]]"),
                    third -> assertThat(third).contains("\"code\":\"57014\""));
        } else {
            assertThat(results).hasSize(2);
        }

        Curl.Response tooLarge = post("alice", ALICE, DB, "SELECT '" + "x".repeat(70_000) + "'");
        assertThat(tooLarge.status()).isEqualTo(413);
        assertThat(json(tooLarge.body()).get("error").get("message").asText())
                .contains("http.limits.max_request_bytes");

        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                sockets.add(Socket.open("alice", ALICE));
            }
            Curl.Response busy = post("alice", ALICE, DB, "SELECT 1");
            assertThat(busy.status()).isEqualTo(429);
            JsonNode error = json(busy.body()).get("error");
            assertThat(error.get("code").asText()).isEqualTo("TOO_MANY_REQUESTS");
            assertThat(error.get("message").asText()).contains("http.limits.max_concurrent_requests");
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
    }

    @Test
    void webSocketEventsArriveWhileTheRpcCallStillRuns() throws Exception {
        try (Socket socket = Socket.open("alice", ALICE)) {
            socket.send("{\"id\": 7, \"sql\": \"INSERT INTO instance (name) VALUES ('ws'); SELECT iasql_wait(); "
                    + "SELECT count(*) FROM instance\"}");
            assertThat(socket.nextEvent()).isEqualTo("7 statement_started 0");
            assertThat(socket.nextEvent()).isEqualTo("7 statement_done 0 INSERT 0 1");
            assertThat(socket.nextEvent()).isEqualTo("7 statement_started 1");
            // all of that while the call cannot have finished: its gate is still closed
            awaitOnShard(RUNNING_WAIT);
            assertThat(scalar("SELECT count(*) FROM gate")).isZero();
            shard.execute(DB, "INSERT INTO gate VALUES (true)");
            // PostgreSQL sends the call's RowDescription with its row (it flushes at the end)
            assertThat(socket.nextEvent()).isEqualTo("7 columns 1");
            assertThat(socket.last().get("columns").get(0).get("name").asText()).isEqualTo("iasql_wait");
            assertThat(socket.nextEvent()).isEqualTo("7 rows 1");
            assertThat(socket.last().get("rows").toString()).isEqualTo("[[\"instances=1\"]]");
            assertThat(socket.nextEvent()).isEqualTo("7 statement_done 1 SELECT 1");
            assertThat(socket.nextEvent()).isEqualTo("7 statement_started 2");
            assertThat(socket.nextEvent()).isEqualTo("7 columns 2");
            assertThat(socket.nextEvent()).isEqualTo("7 rows 2");
            assertThat(socket.last().get("rows").toString()).isEqualTo("[[\"1\"]]"); // int8: a string
            assertThat(socket.nextEvent()).isEqualTo("7 statement_done 2 SELECT 1");
            assertThat(socket.nextEvent()).isEqualTo("7 done");
            // the session goes on: a second request on the same socket
            socket.send("{\"id\": \"second\", \"sql\": \"SELECT name FROM instance\"}");
            assertThat(socket.nextEvent()).isEqualTo("\"second\" statement_started 0");
            assertThat(socket.nextEvent()).isEqualTo("\"second\" columns 0");
            assertThat(socket.nextEvent()).isEqualTo("\"second\" rows 0");
            assertThat(socket.last().get("rows").toString()).isEqualTo("[[\"ws\"]]");
            // pings keep it alive through proxies
            assertThat(socket.pinged.get(30, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void cancelOverTheSocketAndClosingItCancelsToo() throws Exception {
        try (Socket socket = Socket.open("alice", ALICE)) {
            socket.send("{\"id\": \"long\", \"sql\": \"SELECT iasql_wait();\"}");
            socket.send("{\"id\": \"queued\", \"sql\": \"SELECT 1\"}");
            assertThat(socket.nextEvent()).isEqualTo("\"long\" statement_started 0");
            awaitOnShard(RUNNING_WAIT);
            socket.send("{\"cancel\": \"queued\"}");
            assertThat(socket.nextEvent()).isEqualTo("\"queued\" error 0 57014");
            assertThat(socket.nextEvent()).isEqualTo("\"queued\" done");
            socket.send("{\"cancel\": \"long\"}");
            String next = socket.nextEvent();
            if (next.equals("\"long\" columns 0")) { // the RowDescription PostgreSQL had not flushed yet
                next = socket.nextEvent();
            }
            assertThat(next).isEqualTo("\"long\" error 0 57014");
            assertThat(socket.last().get("error").get("message").asText()).contains("user request");
            assertThat(socket.nextEvent()).isEqualTo("\"long\" done");
            awaitNoneOnShard(RUNNING_WAIT, "the cancelled call should end");
        }
        Socket closing = Socket.open("alice", ALICE);
        closing.send("{\"id\": 1, \"sql\": \"SELECT iasql_wait();\"}");
        awaitOnShard(RUNNING_WAIT);
        closing.close();
        // the call ends without its gate: cancelled
        awaitNoneOnShard(RUNNING_WAIT, "the call should be cancelled when its socket closes");
        assertThat(scalar("SELECT count(*) FROM gate")).isZero();
    }

    /** A value whose md5 the shard reports beside it: the text of the value, then the md5 PostgreSQL computed. */
    private static final String LARGE_VALUES = "SELECT v, md5(v) FROM (SELECT string_agg(md5(g::text), '') AS v "
            + "FROM generate_series(1, 6250) g) s;\n" // 200 000 characters
            + "SELECT b, md5(b) FROM (SELECT decode(string_agg(md5(g::text), ''), 'hex') AS b "
            + "FROM generate_series(1, 312500) g) s"; // 5 000 000 bytes: 10 MB of hex

    /** Checks a row of {@link #LARGE_VALUES}: {@code bytea} says whether the value is hex of bytes. */
    private static void assertLargeValue(JsonNode row, int length, boolean bytea) throws Exception {
        String value = row.get(0).asText();
        byte[] bytes;
        if (bytea) {
            assertThat(value).startsWith("\\x");
            bytes = java.util.HexFormat.of().parseHex(value.substring(2));
        } else {
            bytes = value.getBytes(StandardCharsets.UTF_8);
        }
        assertThat(bytes).hasSize(length);
        assertThat(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("MD5").digest(bytes)))
                .isEqualTo(row.get(1).asText());
    }

    /**
     * Rows longer than a socket read (64 KiB), up to megabytes, come whole through each kind of response: the
     * value's md5 computed here is the one the shard computed.
     */
    @Test
    void largeValuesArriveWholeInEveryKindOfResponse() throws Exception {
        Curl.assumeAvailable();
        Curl.Response array = post("alice", ALICE, DB, LARGE_VALUES);
        assertThat(array.status()).isEqualTo(200);
        JsonNode results = json(array.body());
        assertThat(results.get(0).get("error")).as(results.get(0).toString().substring(0, 200)).isNull();
        assertLargeValue(results.get(0).get("rows").get(0), 200_000, false);
        assertThat(results.get(1).get("error")).isNull();
        assertLargeValue(results.get(1).get("rows").get(0), 5_000_000, true);

        Curl.Response ndjson = post("alice", ALICE, DB, LARGE_VALUES, "-H", "Accept: application/x-ndjson");
        List<JsonNode> rows = new ArrayList<>();
        String last = null;
        for (String line : ndjson.body().split("\n")) {
            JsonNode event = json(line);
            last = event.get("event").asText();
            assertThat(last).as(line.length() > 300 ? line.substring(0, 300) : line).isNotEqualTo("error");
            if (last.equals("rows")) {
                rows.add(event.get("rows").get(0));
            }
        }
        assertThat(last).isEqualTo("done");
        assertThat(rows).hasSize(2);
        assertLargeValue(rows.get(0), 200_000, false);
        assertLargeValue(rows.get(1), 5_000_000, true);

        try (Socket socket = Socket.open("alice", ALICE)) {
            socket.send(JSON.createObjectNode().put("id", 1).put("sql", LARGE_VALUES).toString());
            List<JsonNode> received = new ArrayList<>();
            for (String event = socket.nextEvent(); !event.equals("1 done"); event = socket.nextEvent()) {
                assertThat(event).doesNotContain("error");
                if (event.startsWith("1 rows")) {
                    received.add(socket.last().get("rows").get(0));
                }
            }
            assertThat(received).hasSize(2);
            assertLargeValue(received.get(0), 200_000, false);
            assertLargeValue(received.get(1), 5_000_000, true);
        }
    }

    /** A browser's WebSocket cannot send Authorization: its token comes as a subprotocol, never echoed. */
    @Test
    void aWebSocketMayCarryItsTokenAsASubprotocol() throws Exception {
        String encoded = Base64.getUrlEncoder().withoutPadding().encodeToString(TOKEN.getBytes(StandardCharsets.UTF_8));
        try (Socket socket = Socket.open(HttpClient.newHttpClient().newWebSocketBuilder()
                .subprotocols("pgstitch", "bearer." + encoded))) {
            assertThat(socket.socket.getSubprotocol()).isEqualTo("pgstitch");
            socket.send("{\"id\": 1, \"sql\": \"SELECT 'in'\"}");
            assertThat(socket.nextEvent()).isEqualTo("1 statement_started 0");
            assertThat(socket.nextEvent()).isEqualTo("1 columns 0");
            assertThat(socket.nextEvent()).isEqualTo("1 rows 0");
            assertThat(socket.last().get("rows").toString()).isEqualTo("[[\"in\"]]");
        }
        CompletableFuture<WebSocket> wrong = HttpClient.newHttpClient().newWebSocketBuilder()
                .subprotocols("pgstitch", "bearer." + Base64.getUrlEncoder().withoutPadding()
                        .encodeToString("not-a-token-of-ours".getBytes(StandardCharsets.UTF_8)))
                .buildAsync(URI.create(base.replace("http:", "ws:") + DB + "/ws"), new WebSocket.Listener() { });
        assertThat(handshakeStatus(wrong)).isEqualTo(401);
    }

    @Test
    void noticesArriveWithTheirStatement() throws Exception {
        Curl.assumeAvailable();
        String script = "SELECT 1; DO $$ BEGIN RAISE NOTICE 'hello from %', 'plpgsql'; END $$; SELECT 3";
        JsonNode results = json(post("alice", ALICE, DB, script).body());
        assertThat(results).hasSize(3);
        assertThat(results.get(0).get("notices")).isEmpty();
        assertThat(results.get(1).get("command").asText()).isEqualTo("DO");
        assertThat(results.get(1).get("notices")).hasSize(1);
        assertThat(results.get(1).get("notices").get(0).get("message").asText()).isEqualTo("hello from plpgsql");
        assertThat(results.get(1).get("notices").get(0).get("severity").asText()).isEqualTo("NOTICE");
        assertThat(results.get(1).get("notices").get(0).get("code").asText()).isEqualTo("00000");
        assertThat(results.get(2).get("notices")).isEmpty();

        List<String> events = new ArrayList<>();
        JsonNode notice = null;
        for (String line : post("alice", ALICE, DB, script, "-H", "Accept: application/x-ndjson").body()
                .split("\n")) {
            JsonNode event = json(line);
            events.add(event.get("event").asText());
            if (event.get("event").asText().equals("notice")) {
                notice = event;
            }
        }
        assertThat(events).containsSubsequence("statement_started", "notice", "statement_done", "statement_started");
        assertThat(notice.get("statement").asInt()).isEqualTo(1);
        assertThat(notice.get("notice").get("message").asText()).isEqualTo("hello from plpgsql");

        try (Socket socket = Socket.open("alice", ALICE)) {
            socket.send(JSON.createObjectNode().put("id", "n").put("sql", script).toString());
            String event;
            do {
                event = socket.nextEvent();
            } while (!event.startsWith("\"n\" notice"));
            assertThat(event).isEqualTo("\"n\" notice 1");
            assertThat(socket.last().get("notice").get("message").asText()).isEqualTo("hello from plpgsql");
            assertThat(socket.nextEvent()).isEqualTo("\"n\" statement_done 1 DO");
        }
    }

    @Test
    void aWebSocketMessageOverTheLimitIsRefusedNamingIt() throws Exception {
        try (Socket socket = Socket.open("alice", ALICE)) {
            socket.send(JSON.createObjectNode().put("id", 1).put("sql", "SELECT '" + "x".repeat(70_000) + "'")
                    .toString());
            assertThat(socket.nextEvent()).isEqualTo("error");
            assertThat(socket.last().get("error").get("code").asText()).isEqualTo("REQUEST_TOO_LARGE");
            assertThat(socket.last().get("error").get("message").asText()).contains("http.limits.max_request_bytes");
            assertThat(socket.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1009);
        }
    }

    /** An HTTP client that leaves while its request runs has it cancelled on the shard, plain SQL or RPC call. */
    @Test
    void aClientThatDisconnectsDuringARunHasItsQueryCancelled() throws Exception {
        String sleeping = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                + "AND query LIKE '%http-disconnect%' AND pid <> pg_backend_pid()";
        for (String sql : List.of("SELECT pg_sleep(600) /* http-disconnect */", "SELECT iasql_wait()")) {
            String running = sql.contains("iasql_wait") ? RUNNING_WAIT : sleeping;
            try (java.net.Socket client = new java.net.Socket("127.0.0.1",
                    proxy.server().httpAddress().orElseThrow().getPort())) {
                byte[] body = sql.getBytes(StandardCharsets.UTF_8);
                client.getOutputStream().write(("POST /v1/databases/" + DB + "/run HTTP/1.1\r\nHost: x\r\n"
                        + "Authorization: " + basic("alice", ALICE) + "\r\nContent-Type: text/plain\r\n"
                        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
                client.getOutputStream().write(body);
                client.getOutputStream().flush();
                awaitOnShard(running);
            }
            awaitNoneOnShard(running, "the query of a client that left should be cancelled: " + sql);
        }
        assertThat(scalar("SELECT count(*) FROM gate")).isZero(); // iasql_wait ended without its gate
    }

    /**
     * A cancel applies to the request it names: one that comes too late for it must not land on the next request
     * of the socket. Not deterministic: whether a cancel arrives while its request still runs is a race, so the
     * test repeats it; before requests waited for the cancel to be delivered, the next request was regularly hit.
     */
    @Test
    void aCancelDoesNotLandOnTheNextRequest() throws Exception {
        try (Socket socket = Socket.open("alice", ALICE)) {
            for (int i = 0; i < 30; i++) {
                socket.send("{\"id\": \"a" + i + "\", \"sql\": \"SELECT count(*) FROM generate_series(1, 20000)\"}");
                socket.send("{\"id\": \"b" + i + "\", \"sql\": \"SELECT count(*) FROM generate_series(1, 300000)\"}");
                socket.send("{\"cancel\": \"a" + i + "\"}");
                String event;
                do {
                    event = socket.nextEvent();
                    assertThat(event).as("round %d", i).doesNotStartWith("\"b" + i + "\" error");
                } while (!event.equals("\"b" + i + "\" done"));
            }
        }
    }

    @Test
    void anIdleWebSocketIsClosedNamingTheLimit() throws Exception {
        try (Socket socket = Socket.open("alice", ALICE)) {
            assertThat(socket.nextEvent()).isEqualTo("error");
            assertThat(socket.last().get("error").get("code").asText()).isEqualTo("IDLE_TIMEOUT");
            assertThat(socket.last().get("error").get("message").asText())
                    .contains("http.limits.websocket_idle_timeout");
            assertThat(socket.closed.get(30, TimeUnit.SECONDS)).isEqualTo(1001);
        }
    }

    /** A browser sends a page's requests with the user's cached Basic credentials: only allowed pages may call. */
    @Test
    void pagesOfAnotherOriginCannotRunSql() throws Exception {
        Curl.assumeAvailable();
        Curl.Response foreign = post("alice", ALICE, DB, "INSERT INTO instance (name) VALUES ('csrf')",
                "-H", "Origin: https://evil.example");
        assertThat(foreign.status()).isEqualTo(403);
        JsonNode error = json(foreign.body()).get("error");
        assertThat(error.get("code").asText()).isEqualTo("ORIGIN_NOT_ALLOWED");
        assertThat(error.get("message").asText()).contains("https://evil.example");
        assertThat(error.get("hint").asText()).contains("http.allowed_origins");
        assertThat(scalar("SELECT count(*) FROM instance")).as("nothing ran").isZero();
        String own = base.substring(0, base.indexOf("/v1/"));
        assertThat(post("alice", ALICE, DB, "INSERT INTO instance (name) VALUES ('own')", "-H", "Origin: " + own)
                .status()).isEqualTo(200);
        assertThat(scalar("SELECT count(*) FROM instance")).isOne();
        CompletableFuture<WebSocket> socket = HttpClient.newHttpClient().newWebSocketBuilder()
                .header("Authorization", basic("alice", ALICE)).header("Origin", "https://evil.example")
                .buildAsync(URI.create(base.replace("http:", "ws:") + DB + "/ws"), new WebSocket.Listener() { });
        assertThat(handshakeStatus(socket)).isEqualTo(403);
    }

    @Test
    void webSocketLoginFailuresAreHttpErrors() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        CompletableFuture<WebSocket> wrong = client.newWebSocketBuilder()
                .header("Authorization", basic("alice", "nope"))
                .buildAsync(URI.create(base.replace("http:", "ws:") + DB + "/ws"), new WebSocket.Listener() { });
        assertThat(handshakeStatus(wrong)).isEqualTo(401);
        CompletableFuture<WebSocket> unknown = client.newWebSocketBuilder()
                .header("Authorization", basic("alice", ALICE))
                .buildAsync(URI.create(base.replace("http:", "ws:") + "nowhere/ws"), new WebSocket.Listener() { });
        assertThat(handshakeStatus(unknown)).isEqualTo(404);
    }

    private static int handshakeStatus(CompletableFuture<WebSocket> opening) throws Exception {
        try {
            opening.get(30, TimeUnit.SECONDS).abort();
            throw new AssertionError("the WebSocket opened");
        } catch (java.util.concurrent.ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(java.net.http.WebSocketHandshakeException.class);
            return ((java.net.http.WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
        }
    }

    /**
     * A million rows as NDJSON to a client that stops reading: the proxy stops reading the backend (PostgreSQL
     * waits on ClientWrite) instead of buffering, and what it holds meanwhile stays far below the result's size;
     * then every row arrives, once.
     */
    @Test
    void aMillionRowsStreamUnderAFixedHeap() throws Exception {
        long before = retained();
        HttpURLConnection http = (HttpURLConnection) URI.create(base + DB + "/run").toURL().openConnection();
        http.setRequestMethod("POST");
        http.setDoOutput(true);
        http.setRequestProperty("Authorization", basic("alice", ALICE));
        http.setRequestProperty("Accept", "application/x-ndjson");
        http.setRequestProperty("Content-Type", "text/plain");
        try (OutputStream out = http.getOutputStream()) {
            // about 110 MB of JSON
            out.write("SELECT g, repeat('x', 100) AS pad FROM generate_series(1, 1000000) g"
                    .getBytes(StandardCharsets.UTF_8));
        }
        assertThat(http.getResponseCode()).isEqualTo(200);
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(http.getInputStream(),
                StandardCharsets.UTF_8), 8192)) {
            assertThat(json(lines.readLine()).get("event").asText()).isEqualTo("statement_started");
            // the client reads no more: PostgreSQL must end up waiting to write, the proxy holding little
            String blocked = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgstitch-http' "
                    + "AND state = 'active' AND wait_event = 'ClientWrite'";
            awaitOnShard(blocked);
            // A proxy that kept reading would in these seconds fill its memory with the result and let PostgreSQL
            // finish (it produces the whole result in about a second): watch it not happen. A single sample of
            // wait_event may miss ClientWrite (PostgreSQL re-arms its wait after any latch wake-up), so the
            // running query is what is watched, and ClientWrite awaited again at the end.
            String running = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgstitch-http' "
                    + "AND state = 'active' AND query LIKE '%generate_series(1, 1000000)%'";
            long soak = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            long held = 0;
            while (System.nanoTime() < soak) {
                held = Math.max(held, retained() - before);
                assertThat(held).as("bytes the proxy holds while the client does not read").isLessThan(32L << 20);
                assertThat(scalar(running)).as("PostgreSQL still sending the result").isEqualTo(1);
                Thread.sleep(250);
            }
            awaitOnShard(blocked);
            System.out.println("SqlOverHttpIT: the proxy held at most " + (held >> 10) + " KiB of a ~110 MB result");
            long rows = 0;
            long sum = 0;
            String line;
            String last = null;
            while ((line = lines.readLine()) != null) {
                JsonNode event = json(line);
                last = event.get("event").asText();
                if (last.equals("rows")) {
                    for (JsonNode row : event.get("rows")) {
                        rows++;
                        sum += row.get(0).asLong();
                    }
                } else if (last.equals("statement_done")) {
                    assertThat(event.get("command").asText()).isEqualTo("SELECT 1000000");
                }
            }
            assertThat(rows).isEqualTo(1_000_000);
            assertThat(sum).isEqualTo(1_000_000L * 1_000_001L / 2);
            assertThat(last).isEqualTo("done");
        }
    }

    /** Heap in use after a collection, plus the direct memory of Netty's pooled allocator, which the proxy uses. */
    private static long retained() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed()
                + PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    /** A WebSocket of Java's client whose text messages are queued as JSON; pings and the close are recorded. */
    private static final class Socket implements WebSocket.Listener, AutoCloseable {

        private final BlockingQueue<JsonNode> events = new LinkedBlockingQueue<>();
        private final StringBuilder partial = new StringBuilder();
        final CompletableFuture<Boolean> pinged = new CompletableFuture<>();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private WebSocket socket;
        private JsonNode last;

        static Socket open(String user, String password) throws Exception {
            return open(HttpClient.newHttpClient().newWebSocketBuilder().header("Authorization", basic(user, password)));
        }

        static Socket open(WebSocket.Builder builder) throws Exception {
            Socket listener = new Socket();
            listener.socket = builder.buildAsync(URI.create(base.replace("http:", "ws:") + DB + "/ws"), listener)
                    .get(30, TimeUnit.SECONDS);
            return listener;
        }

        void send(String text) {
            socket.sendText(text, true).join();
        }

        /** The next event as "id event [statement [command or error code]]". */
        String nextEvent() throws InterruptedException {
            last = events.poll(60, TimeUnit.SECONDS);
            assertThat(last).as("an event within a minute").isNotNull();
            StringBuilder summary = new StringBuilder();
            if (last.has("id")) {
                summary.append(last.get("id")).append(' ');
            }
            summary.append(last.get("event").asText());
            JsonNode statement = last.get("statement");
            if (statement != null && !statement.isNull()) {
                summary.append(' ').append(statement.isInt() ? statement.asInt() : statement.get("index").asInt());
            }
            if (last.has("command")) {
                summary.append(' ').append(last.get("command").asText());
            }
            if (last.has("error") && last.has("statement")) {
                summary.append(' ').append(last.get("error").get("code").asText());
            }
            return summary.toString();
        }

        JsonNode last() {
            return last;
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean complete) {
            partial.append(data);
            if (complete) {
                try {
                    events.add(JSON.readTree(partial.toString()));
                } catch (Exception e) {
                    throw new IllegalStateException("not JSON: " + partial, e);
                }
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onPing(WebSocket webSocket, java.nio.ByteBuffer message) {
            pinged.complete(true);
            return WebSocket.Listener.super.onPing(webSocket, message);
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void close() {
            if (!socket.isOutputClosed()) {
                try {
                    socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
                } catch (java.util.concurrent.CompletionException e) {
                    // the server closed first (idle timeout) and the client answered it meanwhile
                }
            }
            socket.abort();
        }
    }
}
