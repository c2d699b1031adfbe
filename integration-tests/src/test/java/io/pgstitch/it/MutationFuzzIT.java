package io.pgstitch.it;

import io.pgstitch.it.support.LogWatch;
import io.pgstitch.it.support.Mutator;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.it.support.ProcessResult;
import io.pgstitch.it.support.Psql;
import io.pgstitch.it.support.RecordedSession;
import io.pgstitch.it.support.RecordingRelay;
import io.pgstitch.it.support.Wire;
import io.pgstitch.it.support.WireClient;
import io.pgstitch.protocol.auth.ScramVerifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A mutation fuzzer over real sessions recorded as client-to-server byte streams (src/test/resources/fuzz: a psql
 * session, a PgJDBC session with the extended protocol, prepared statements and a batch, and a SCRAM login),
 * each replayed in mutated form on a new connection to pgstitch in front of real PostgreSQL: bits flipped,
 * bytes inserted and deleted, length fields corrupted, the stream cut short, messages duplicated, dropped,
 * reordered, retyped or spliced in from another session ({@link Mutator}). The client sends everything, shuts
 * down its writing side and reads; each replay must be answered and closed within {@code fuzz.hangSeconds}
 * (default 5: longer is a hung session), never with SQLSTATE XX000 or a Java name in a message, in a well-framed
 * stream, and the proxy must let the client go (its client count back to where it was). After every batch, a
 * control session must find its own table with exactly its own rows and a session state that nothing of the
 * fuzzed sessions leaked into, and nothing may have been logged that must not be ({@link LogWatch}).
 *
 * <p>{@code -Dfuzz.iterations=N} (default 300, a CI-sized run) and {@code -Dfuzz.seed=S} (default: random,
 * printed) choose the run; {@code -Dfuzz.case=I} replays case I of seed S alone, with its bytes and answer
 * printed; {@code -Dfuzz.backend=embedded|system} runs only under that PostgreSQL (the other failsafe execution
 * skips); {@code scripts/fuzz.sh} runs a long one. {@code -Dfuzz.record=DIR} records the sessions afresh into DIR.
 */
@ExtendWith({PostgresExtension.class, LogWatch.class})
@EnabledIf(value = "onSelectedBackend", disabledReason = "-Dfuzz.backend names the other PostgreSQL")
class MutationFuzzIT {

    private static final String DB = "fuzz";
    private static final List<String> SESSIONS = List.of("psql", "pgjdbc", "scram");
    private static final Pattern JAVA_NAME = Pattern.compile(
            "\\b(java|javax|io\\.netty|io\\.pgstitch)\\.[a-z]|[A-Z][A-Za-z]+(Exception|Error)\\b");
    private static final int BATCH = 50;
    private static final int MAX_FAILURES = 10;

    @TempDir
    static Path dir;
    private static PostgresCluster cluster;
    private static TestProxy trust;
    private static TestProxy scram;
    private static int controlRows;
    private static ExecutorService writer;

    /** {@code -Dfuzz.backend}: only under that PostgreSQL (decided before any is started). */
    static boolean onSelectedBackend() {
        String only = System.getProperty("fuzz.backend");
        return only == null || only.equals(System.getProperty("pg.backend", "embedded"));
    }

    @BeforeAll
    static void start(PostgresCluster postgres) throws Exception {
        cluster = postgres;
        Tenants.create(cluster.shard(1), DB, DB, "shard1");
        cluster.shard(1).execute(DB, "CREATE FUNCTION iasql_noop() RETURNS text LANGUAGE sql AS $$ SELECT 'ok' $$;"
                + " CREATE TABLE fuzz_items (id int, source text); CREATE TABLE control_rows (n int)");
        String routes = """
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres }
                routes:
                  %s: shard1
                # every other name too (a mutated one reaches the shard, which refuses it): an unrouted name with
                # messages behind it leaks them, HostileShapesIT.messagesPipelinedBehindAnUnroutedStartupAreReleased
                default_route: shard1
                rpc: { functions: ["iasql_*"] }
                """.formatted(cluster.shard(1).port(), DB);
        trust = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                auth: { method: trust, auth_timeout: 2s }
                """ + routes);
        Path users = dir.resolve("users.txt");
        Files.writeString(users, "\"alice\" \"" + ScramVerifier.fromPassword("alice-pw").encoded() + "\"\n");
        scram = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                auth: { method: scram-sha-256, users_file: '%s', auth_timeout: 2s }
                """.formatted(users) + routes);
        writer = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "fuzz-writer");
            thread.setDaemon(true);
            return thread;
        });
    }

    @AfterAll
    static void stop() {
        if (writer != null) {
            writer.shutdownNow();
        }
        for (TestProxy proxy : new TestProxy[] {trust, scram}) {
            if (proxy != null) {
                proxy.close();
            }
        }
    }

    private static TestProxy proxyFor(RecordedSession session) {
        return session.name().equals("scram") ? scram : trust;
    }

    // ---- the recordings themselves ----

    /** Unchanged, each recording replays as it was recorded: the fuzzer's starting points reach deep. */
    @Test
    void theRecordedSessionsReplayAsRecorded() throws Exception {
        for (String name : SESSIONS) {
            RecordedSession session = RecordedSession.resource(name);
            Replay replay = replay(proxyFor(session), session.bytes(), Duration.ofSeconds(10));
            assertThat(replay.problem()).as(name + ": " + replay).isNull();
            assertThat(replay.messages().stream().filter(Wire.Message::isError).map(Wire.Message::sqlState))
                    .as(name + ": the errors of its replay: " + replay).containsExactlyElementsOf(
                            session.expectedErrors());
            if (!name.equals("scram")) {
                assertThat(replay.messages().stream().filter(m -> m.type() == 'D').count())
                        .as(name + ": rows answered").isGreaterThan(3);
            }
        }
        assertControlSession(0);
    }

    // ---- the fuzzer ----

    @Test
    void mutatedSessions() throws Exception {
        fuzz(SESSIONS);
    }

    @Test
    void mutatedSessionsWithCopyFromStdin() throws Exception {
        fuzz(List.of("psql-copy-in"));
    }

    private void fuzz(List<String> names) throws Exception {
        List<RecordedSession> sessions = new ArrayList<>();
        for (String name : names) {
            sessions.add(RecordedSession.resource(name));
        }
        List<RecordedSession> all = new ArrayList<>(sessions);
        for (String name : SESSIONS) {
            if (!names.contains(name)) {
                all.add(RecordedSession.resource(name));
            }
        }
        int iterations = Integer.getInteger("fuzz.iterations", 300);
        long seed = Long.getLong("fuzz.seed", new Random().nextLong());
        Integer only = Integer.getInteger("fuzz.case");
        Duration hang = Duration.ofSeconds(Integer.getInteger("fuzz.hangSeconds", 5));
        System.out.printf("MutationFuzzIT: %d mutations of %s, seed %d (replay: -Dfuzz.seed=%d)%n",
                only == null ? iterations : 1, names, seed, seed);

        Map<String, Integer> outcomes = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        long started = System.nanoTime();
        int run = 0;
        int from = only == null ? 0 : only;
        int to = only == null ? iterations : only + 1;
        int batchStart = from;
        for (int i = from; i < to && failures.size() < MAX_FAILURES; i++) {
            Random random = new Random(seed * 0x9E37_79B9_7F4A_7C15L + i);
            RecordedSession session = sessions.get(random.nextInt(sessions.size()));
            Mutator.Mutant mutant = new Mutator(random).mutate(session, all);
            TestProxy proxy = proxyFor(session);
            int baseline = proxy.server().clientCount();
            Replay replay = replay(proxy, mutant.bytes(), hang);
            run++;
            String problem = replay.problem();
            if (problem == null && !clientsBackTo(proxy, baseline)) {
                problem = "the proxy still holds the client 5 s after it closed (client count "
                        + proxy.server().clientCount() + ", was " + baseline + ")";
            }
            outcomes.merge(session.name() + ": " + replay.outcome(), 1, Integer::sum);
            if (only != null) {
                System.out.printf("case %d: %s %s%n  sent %s%n  answer %s: %s%n", i, session.name(),
                        mutant.steps(), HexFormat.of().formatHex(mutant.bytes()), replay.outcome(), replay.messages());
            }
            if (problem != null) {
                failures.add(String.format("case %d (%s, %s): %s%n    sent %s%n    answer %s", i, session.name(),
                        mutant.steps(), problem, hexStart(mutant.bytes()), replay));
            }
            if ((i + 1 - from) % BATCH == 0 || i + 1 == to) {
                List<String> logged = LogWatch.problems();
                LogWatch.acknowledge();
                if (!logged.isEmpty()) {
                    failures.add("cases " + batchStart + ".." + i + ": the proxy logged " + String.join("\n    ",
                            logged));
                }
                try {
                    assertControlSession(batchStart);
                } catch (AssertionError | SQLException e) {
                    failures.add("after cases " + batchStart + ".." + i + ": the control session: " + e.getMessage());
                }
                batchStart = i + 1;
            }
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        String summary = summary(names, seed, run, millis, outcomes, failures);
        System.out.println(summary);
        Path reports = Path.of("target", "fuzz");
        Files.createDirectories(reports);
        Files.writeString(reports.resolve("summary-" + System.getProperty("pg.backend", "embedded") + ".txt"),
                summary);
        assertThat(failures).as("MutationFuzzIT seed %d: %d failure(s); replay one with -Dfuzz.seed=%d "
                + "-Dfuzz.case=I%n%s", seed, failures.size(), seed, String.join("\n", failures)).isEmpty();
    }

    private static String summary(List<String> names, long seed, int run, long millis, Map<String, Integer> outcomes,
                                  List<String> failures) {
        StringBuilder out = new StringBuilder();
        out.append(String.format("MutationFuzzIT summary: %d mutations of %s, seed %d, %d ms (%.1f per second), "
                + "%d failure(s)%n", run, names, seed, millis, run * 1000.0 / Math.max(1, millis), failures.size()));
        outcomes.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEach(e -> out.append(String.format("  %6d  %s%n", e.getValue(), e.getKey())));
        failures.forEach(failure -> out.append("FAILURE ").append(failure).append('\n'));
        return out.toString();
    }

    private static String hexStart(byte[] bytes) {
        String hex = HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 400));
        return bytes.length > 400 ? hex + "... (" + bytes.length + " bytes)" : hex;
    }

    // ---- one replay ----

    /** What one replay got back, and the first broken rule, if any. */
    private record Replay(List<Wire.Message> messages, String outcome, String problem, int bytes) {
        @Override
        public String toString() {
            String shown = messages.size() > 30 ? messages.subList(0, 30) + "... (" + messages.size() + ")"
                    : messages.toString();
            return outcome + " " + shown + (problem == null ? "" : " PROBLEM: " + problem);
        }
    }

    private static Replay replay(TestProxy proxy, byte[] bytes, Duration hang) throws Exception {
        try (WireClient client = WireClient.connect(proxy.port())) {
            Future<?> sent = writer.submit(() -> {
                client.sendQuietly(bytes);
                try {
                    client.halfClose();
                } catch (IOException closed) {
                    // the proxy closed first
                }
                return null;
            });
            WireClient.Bytes answer = client.readBytesToEnd(hang, 16 << 20);
            try {
                sent.get(hang.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                sent.cancel(true);
                return new Replay(List.of(), "write blocked", "the proxy stopped reading for " + hang.toSeconds()
                        + " s with " + bytes.length + " bytes to send", answer.bytes().length);
            }
            return judge(bytes, answer);
        }
    }

    /** The rules every answer keeps, whatever was sent. */
    private static Replay judge(byte[] sent, WireClient.Bytes answer) {
        byte[] bytes = answer.bytes();
        int offset = 0;
        // an SSLRequest or GSSENCRequest is answered with one byte before anything else
        for (int packet = 0; packet + 8 <= sent.length && packet < 16 && offset < bytes.length; packet += 8) {
            ByteBuffer header = ByteBuffer.wrap(sent, packet, 8);
            int length = header.getInt();
            int code = header.getInt();
            if (length != 8 || (code != (1234 << 16 | 5679) && code != (1234 << 16 | 5680))) {
                break;
            }
            if (bytes[offset] == 'S') {
                return new Replay(List.of(), "TLS started", answer.closed() ? null : "open after TLS", bytes.length);
            }
            if (bytes[offset] == 'N') {
                offset++;
            }
        }
        List<Wire.Message> messages;
        try {
            messages = Wire.split(java.util.Arrays.copyOfRange(bytes, offset, bytes.length));
        } catch (IllegalArgumentException e) {
            return new Replay(List.of(), "malformed answer", "the proxy's answer is not well framed: "
                    + e.getMessage(), bytes.length);
        }
        String problem = null;
        if (!answer.closed()) {
            problem = "neither answered nor closed: silent and open after the client's half-close";
        }
        Wire.Message lastError = null;
        for (Wire.Message message : messages) {
            if (message.type() == 'E' || message.type() == 'N') {
                // pgstitch's own internal errors are FATAL; an ERROR XX000 is PostgreSQL's ("cache lookup failed
                // for type N" after a Parse naming a type OID that does not exist), relayed as it is
                if ("XX000".equals(message.sqlState()) && !"ERROR".equals(message.severity())) {
                    problem = "internal error: " + message;
                }
                Map<Character, String> fields = message.fields();
                String text = fields.getOrDefault('M', "") + " " + fields.getOrDefault('D', "") + " "
                        + fields.getOrDefault('H', "");
                if (JAVA_NAME.matcher(text).find()) {
                    problem = "a Java name in " + fields;
                }
                if (message.isError()) {
                    lastError = message;
                }
            }
        }
        String outcome;
        if (lastError != null) {
            outcome = lastError.severity() + " " + lastError.sqlState() + " " + shorten(lastError.message());
        } else if (!messages.isEmpty() && messages.get(messages.size() - 1).type() == 'Z') {
            outcome = "answered, then closed";
        } else {
            outcome = messages.isEmpty() ? "closed without a word" : "closed after " + messages.get(
                    messages.size() - 1);
        }
        return new Replay(messages, outcome, problem, bytes.length);
    }

    /** A message without its variable parts (names, numbers), so that outcomes group. */
    private static String shorten(String message) {
        String general = message == null ? "" : message.replaceAll("\"[^\"]*\"", "\"…\"")
                .replaceAll("-?\\d+", "N").replaceAll("0xN[0-9a-f]*|'.'", "…");
        return general.length() > 90 ? general.substring(0, 90) + "…" : general;
    }

    private static boolean clientsBackTo(TestProxy proxy, int baseline) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxy.server().clientCount() > baseline && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return proxy.server().clientCount() <= baseline;
    }

    // ---- the control session ----

    /**
     * A new session through the proxy, likely on a backend the fuzzed sessions used before: it adds one row to a
     * table only it writes, finds exactly its rows, and a session state with nothing of theirs (settings, prepared
     * statements, LISTEN, advisory locks, temporary tables, role, transaction).
     */
    private static void assertControlSession(int batch) throws SQLException {
        Properties properties = new Properties();
        properties.setProperty("ApplicationName", "pgstitch-fuzz-control");
        try (Connection control = trust.connect(DB, properties)) {
            try (PreparedStatement insert = control.prepareStatement("insert into control_rows values (?)")) {
                insert.setInt(1, batch);
                insert.executeUpdate();
            }
            controlRows++;
            try (Statement statement = control.createStatement(); ResultSet rs = statement.executeQuery("""
                    select (select count(*) from control_rows),
                           current_setting('application_name'),
                           coalesce(current_setting('fuzz.marker', true), ''),
                           (select count(*) from pg_prepared_statements),
                           (select count(*) from pg_listening_channels()),
                           (select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()),
                           (select count(*) from pg_class where relnamespace = pg_my_temp_schema()),
                           current_user, session_user, txid_current_if_assigned() is null,
                           current_setting('search_path'), current_setting('statement_timeout')
                    """)) {
                rs.next();
                Map<String, Object> seen = new LinkedHashMap<>();
                String[] names = {"control rows", "application_name", "fuzz.marker", "prepared statements",
                        "listening channels", "advisory locks", "temporary tables", "current_user", "session_user",
                        "no transaction", "search_path", "statement_timeout"};
                for (int column = 1; column <= names.length; column++) {
                    seen.put(names[column - 1], rs.getObject(column));
                }
                Map<String, Object> expected = new LinkedHashMap<>();
                expected.put("control rows", (long) controlRows);
                expected.put("application_name", "pgstitch-fuzz-control");
                expected.put("fuzz.marker", "");
                expected.put("prepared statements", 0L);
                expected.put("listening channels", 0L);
                expected.put("advisory locks", 0L);
                expected.put("temporary tables", 0L);
                expected.put("current_user", "postgres");
                expected.put("session_user", "postgres");
                expected.put("no transaction", true);
                expected.put("search_path", "\"$user\", public");
                expected.put("statement_timeout", "0");
                assertThat(seen).as("the control session's state").isEqualTo(expected);
            }
        }
    }

    // ---- recording the sessions afresh ----

    /**
     * {@code -Dfuzz.record=DIR}: runs psql, PgJDBC and a SCRAM login through a {@link RecordingRelay} in front of
     * pgstitch and writes what each client sent to DIR/NAME.hex, to be copied to src/test/resources/fuzz.
     */
    @Test
    void recordSessions() throws Exception {
        String target = System.getProperty("fuzz.record");
        Assumptions.assumeTrue(target != null, "-Dfuzz.record=DIR records the sessions afresh");
        Path out = Files.createDirectories(Path.of(target));
        Psql.assumeAvailable();
        String psqlVersion = Psql.at("127.0.0.1", 1).run("--version").stdout().trim();
        recordPsql(out, "psql", psqlVersion, PSQL_SCRIPT);
        recordPsql(out, "psql-copy-in", psqlVersion, PSQL_SCRIPT + PSQL_COPY_IN);
        try (RecordingRelay relay = new RecordingRelay(trust.port())) {
            Properties properties = jdbcProperties("postgres", null);
            properties.setProperty("prepareThreshold", "1");
            properties.setProperty("ApplicationName", "pgjdbc-fuzz");
            try (Connection connection = DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + relay.port() + "/" + DB, properties)) {
                pgjdbcSession(connection);
            }
            save(out, "pgjdbc", relay, List.of("PgJDBC " + org.postgresql.util.DriverInfo.DRIVER_VERSION
                    + ": extended protocol, prepareThreshold=1, a batch insert, a stitched prepared statement, "
                    + "a division by zero rolled back", "expect-errors: 22012"));
        }
        try (RecordingRelay relay = new RecordingRelay(scram.port())) {
            try (Connection connection = DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + relay.port() + "/" + DB, jdbcProperties("alice", "alice-pw"));
                 ResultSet rs = connection.createStatement().executeQuery("select 1")) {
                rs.next();
            }
            save(out, "scram", relay, List.of("PgJDBC " + org.postgresql.util.DriverInfo.DRIVER_VERSION
                    + ": SCRAM-SHA-256 login of alice (password alice-pw), then select 1; replayed, the proof "
                    + "no longer matches the server's nonce", "expect-errors: 08P01"));
        }
    }

    /**
     * psql's part. pg_try_advisory_lock, not pg_advisory_lock: a replay must not wait on a lock another replay's
     * backend still holds while the pool cleans it up.
     */
    private static final String PSQL_SCRIPT = """
            select 1 as one;
            create temp table t (a int, b text);
            insert into t values (1, 'one'), (2, 'two');
            select * from t order by a;
            select 1 \\; select iasql_noop() \\; select 2;
            begin;
            insert into fuzz_items values (1, 'psql');
            savepoint s1;
            select 1/0;
            rollback to savepoint s1;
            commit;
            copy t to stdout;
            set application_name = 'fuzzed';
            set fuzz.marker = 'dirty';
            listen fuzz_channel;
            notify fuzz_channel, 'hello';
            prepare p(int) as select $1 + 1;
            execute p(41);
            select pg_try_advisory_lock(42);
            select current_setting('fuzz.marker');
            select iasql_noop();
            """;

    private static final String PSQL_COPY_IN = """
            copy t from stdin;
            3\tthree
            4\tfour
            \\.
            select count(*) from t;
            """;

    private static void recordPsql(Path out, String name, String version, String script) throws Exception {
        try (RecordingRelay relay = new RecordingRelay(trust.port())) {
            ProcessResult result = Psql.at("127.0.0.1", relay.port()).user("postgres").database(DB)
                    .env("PGSSLMODE", "disable").env("PGGSSENCMODE", "disable").env("PGAPPNAME", "psql-fuzz")
                    .runWithInput(script, "-f", "-");
            assertThat(result.exitCode()).as(result.stderr()).isZero();
            assertThat(result.stderr().lines().filter(line -> line.contains("ERROR:")))
                    .as("psql's errors: only the division by zero").singleElement().asString()
                    .contains("division by zero");
            save(out, name, relay, List.of(version + " (psql -X -f -, sslmode and gssencmode disable):",
                    script.replace("\n", " ").replace("\t", " "), "expect-errors: 22012"));
        }
    }

    private static void pgjdbcSession(Connection connection) throws SQLException {
        connection.setAutoCommit(false);
        try (PreparedStatement insert = connection.prepareStatement(
                "insert into fuzz_items (id, source) values (?, ?)")) {
            for (int i = 1; i <= 3; i++) {
                insert.setInt(1, i);
                insert.setString(2, "jdbc " + i);
                insert.addBatch();
            }
            insert.executeBatch();
        }
        connection.commit();
        try (PreparedStatement select = connection.prepareStatement(
                "select id, source from fuzz_items where id = ? and source like ?")) {
            for (int i = 1; i <= 2; i++) {
                select.setInt(1, i);
                select.setString(2, "jdbc%");
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        rs.getString(2);
                    }
                }
            }
        }
        try (Statement statement = connection.createStatement()) {
            statement.executeQuery("select 1/0").close();
        } catch (SQLException expected) {
            connection.rollback();
        }
        connection.setAutoCommit(true); // RPC functions run outside transaction blocks only
        try (PreparedStatement rpc = connection.prepareStatement("select iasql_noop()")) {
            for (int i = 0; i < 2; i++) {
                try (ResultSet rs = rpc.executeQuery()) {
                    rs.next();
                }
            }
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute("set fuzz.marker = 'jdbc'");
            statement.execute("select 1; select iasql_noop(); select 2");
        }
    }

    private static Properties jdbcProperties(String user, String password) {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        if (password != null) {
            properties.setProperty("password", password);
        }
        properties.setProperty("sslmode", "disable");
        properties.setProperty("gssEncMode", "disable");
        properties.setProperty("channelBinding", "disable");
        return properties;
    }

    private static void save(Path out, String name, RecordingRelay relay, List<String> comments) throws Exception {
        Thread.sleep(200); // the relay copies what the client's last write held
        List<byte[]> recordings = relay.recordings();
        assertThat(recordings).as(name + ": one connection").hasSize(1);
        List<String> all = new ArrayList<>();
        all.add("Recorded by MutationFuzzIT.recordSessions (-Dfuzz.record=DIR): the client-to-server bytes of one "
                + "session, one message a line.");
        all.addAll(comments);
        RecordedSession.cut(name, all, recordings.get(0)).write(out.resolve(name + ".hex"));
    }
}
