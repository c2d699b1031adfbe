package io.pgstitch.it;

import io.pgstitch.it.support.LogWatch;
import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import io.pgstitch.it.support.Wire;
import io.pgstitch.it.support.WireClient;
import io.pgstitch.protocol.auth.Md5Password;
import io.pgstitch.protocol.auth.ScramVerifier;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.pgstitch.it.support.Wire.bind;
import static io.pgstitch.it.support.Wire.bindRaw;
import static io.pgstitch.it.support.Wire.concat;
import static io.pgstitch.it.support.Wire.copyData;
import static io.pgstitch.it.support.Wire.cstrings;
import static io.pgstitch.it.support.Wire.describe;
import static io.pgstitch.it.support.Wire.execute;
import static io.pgstitch.it.support.Wire.flush;
import static io.pgstitch.it.support.Wire.header;
import static io.pgstitch.it.support.Wire.ints;
import static io.pgstitch.it.support.Wire.message;
import static io.pgstitch.it.support.Wire.parse;
import static io.pgstitch.it.support.Wire.query;
import static io.pgstitch.it.support.Wire.repeat;
import static io.pgstitch.it.support.Wire.shorts;
import static io.pgstitch.it.support.Wire.startup;
import static io.pgstitch.it.support.Wire.sync;
import static io.pgstitch.it.support.Wire.terminate;
import static io.pgstitch.it.support.Wire.untyped;
import static io.pgstitch.it.support.Wire.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The classic malformed client shapes, one table, each sent to a live pgstitch in front of real PostgreSQL in the
 * state it belongs to: before the startup packet is complete, during SCRAM or md5 authentication, logged in
 * (through a proxy with RPC functions configured, whose router reads every message, and one without, which
 * passes them to PostgreSQL unread), and behind an RPC stitched request. Each asserts the exact answer: a FATAL
 * (08P01 for a protocol violation) naming the thing and then the close, or PostgreSQL's own ERROR where it keeps
 * the session (then the session must still work). After every shape a new client works, the proxy holds no
 * client more than before (polled), the shard has no backend left busy, and nothing was logged that must not be
 * (a Netty LEAK, an internal error: {@link LogWatch}).
 */
@ExtendWith({PostgresExtension.class, LogWatch.class})
class HostileShapesIT {

    /** The longest a shape's answer may take; a session that stays silent longer is hung. */
    private static final Duration ANSWER = Duration.ofSeconds(10);
    private static final String DB = "shapes";
    private static final Pattern JAVA_NAME = Pattern.compile(
            "\\b(java|javax|io\\.netty|io\\.pgstitch)\\.[a-z]|[A-Z][A-Za-z]+(Exception|Error)\\b");

    @TempDir
    static Path dir;
    private static PostgresCluster cluster;
    private static TestProxy rpc;
    private static TestProxy plain;
    private static TestProxy scram;

    private enum Target { RPC, PLAIN, SCRAM }

    /** Where the session is when the shape is sent. */
    private enum Stage { UNSTARTED, SASL_STARTED, SASL_CONTINUED, MD5_REQUESTED, LOGGED_IN }

    @FunctionalInterface
    private interface Play {
        void play(WireClient client) throws Exception;
    }

    /**
     * @param defect  null, or a known defect of pgstitch this shape runs into: then the shape is reported as skipped
     *                with that text while it fails with {@code symptom} in its failure, and fails once it passes
     *                (the mark must then go)
     */
    private record Shape(String name, Target target, Stage stage, Play play, String defect, String symptom) {

        Shape(String name, Target target, Stage stage, Play play) {
            this(name, target, stage, play, null, null);
        }

        Shape defect(String description, String failureSymptom) {
            return new Shape(name, target, stage, play, description, failureSymptom);
        }

        @Override
        public String toString() {
            return target.name().toLowerCase() + ", " + stage.name().toLowerCase().replace('_', ' ') + ": " + name;
        }
    }

    @BeforeAll
    static void start(PostgresCluster postgres) throws Exception {
        cluster = postgres;
        Tenants.create(cluster.shard(1), DB, DB, "shard1");
        cluster.shard(1).execute(DB, "CREATE FUNCTION iasql_noop() RETURNS text LANGUAGE sql AS $$ SELECT 'ok' $$");
        cluster.shard(1).execute(DB, "CREATE TABLE shapes_copy (a int)");
        String shards = """
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres }
                routes:
                  %s: shard1
                """.formatted(cluster.shard(1).port(), DB);
        rpc = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                auth: { method: trust, auth_timeout: 2s }
                rpc: { functions: ["iasql_*"] }
                """ + shards);
        plain = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                auth: { method: trust, auth_timeout: 2s }
                """ + shards);
        Path users = dir.resolve("users.txt");
        Files.writeString(users, "\"alice\" \"%s\"\n\"bob\" \"%s\"\n".formatted(
                ScramVerifier.fromPassword("alice-pw").encoded(), Md5Password.hash("bob", "bob-pw")));
        scram = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                auth:
                  method: scram-sha-256
                  users_file: '%s'
                  auth_timeout: 3s
                  rules:
                    - { user: bob, method: md5 }
                """.formatted(users) + shards);
    }

    @AfterAll
    static void stop() {
        for (TestProxy proxy : new TestProxy[] {rpc, plain, scram}) {
            if (proxy != null) {
                proxy.close();
            }
        }
    }

    // ---- the table ----

    static Stream<Arguments> shapes() {
        List<Shape> shapes = new ArrayList<>();
        beforeStartup(shapes);
        duringAuthentication(shapes);
        for (Target target : new Target[] {Target.RPC, Target.PLAIN}) {
            afterLogin(shapes, target);
        }
        acrossStitchedRequests(shapes);
        return shapes.stream().map(shape -> Arguments.of(shape.toString(), shape));
    }

    private static void beforeStartup(List<Shape> shapes) {
        Stage stage = Stage.UNSTARTED;
        Target t = Target.RPC;
        for (int length : new int[] {0, 3, 7, -1}) {
            shapes.add(new Shape("length " + length, t, stage, fatal(concat(ints(length), new byte[3]), "08P01",
                    "invalid message: startup packet length " + length + " (must be 8 to 10000)")));
        }
        for (int length : new int[] {10_001, Integer.MAX_VALUE}) {
            shapes.add(new Shape("length " + length, t, stage, fatal(ints(length, Wire.V3_0), "08P01",
                    "invalid message: startup packet length " + length + " (must be 8 to 10000)")));
        }
        Map<String, String> big = login("postgres");
        for (int i = 0; i < 1000; i++) {
            big.put("p" + i, "v".repeat(60));
        }
        byte[] bigPacket = startup(Wire.V3_0, big);
        shapes.add(new Shape("64 KiB of parameters", t, stage, fatal(bigPacket, "08P01",
                "invalid message: startup packet length " + bigPacket.length + " (must be 8 to 10000)")));
        byte[] truncated = concat(ints(100, Wire.V3_0), cstrings("user", "postgres"));
        shapes.add(new Shape("truncated packet, then silence", t, stage, client -> {
            client.send(truncated);
            expectFatal(client.readToEnd(ANSWER), "57014", "canceling authentication due to timeout");
        }));
        shapes.add(new Shape("truncated packet, then half-close", t, stage, client -> {
            client.send(truncated);
            client.halfClose();
            expectClosedQuietly(client.readToEnd(ANSWER));
        }));
        shapes.add(new Shape("truncated packet, then close", t, stage, client -> client.send(truncated)));
        shapes.add(new Shape("no terminator after the last value", t, stage, fatal(
                untyped(Wire.V3_0, cstrings("user", "postgres", "database", DB)), "08P01",
                "invalid message: startup packet layout: expected terminator as last byte")));
        shapes.add(new Shape("only the version", t, stage, fatal(ints(8, Wire.V3_0), "08P01",
                "startup packet layout: expected terminator as last byte")));
        shapes.add(new Shape("protocol 2.0", t, stage, fatal(startup(2 << 16, login("postgres")), "0A000",
                "unsupported frontend protocol 2.0: server supports 3.0 to 3.2")));
        shapes.add(new Shape("protocol 4.0", t, stage, fatal(startup(4 << 16, login("postgres")), "0A000",
                "unsupported frontend protocol 4.0: server supports 3.0 to 3.2")));
        shapes.add(new Shape("a name given twice", t, stage, fatal(untyped(Wire.V3_0, concat(cstrings("user",
                "postgres", "database", DB, "application_name", "a", "application_name", "b"), new byte[1])),
                "08P01", "invalid message: startup parameter \"application_name\" appears more than once")));
        shapes.add(new Shape("an empty name first", t, stage, fatal(untyped(Wire.V3_0,
                concat(new byte[1], cstrings("user", "postgres"), new byte[1])), "08P01",
                "invalid message: StartupMessage has 15 unexpected trailing bytes")));
        for (String name : new String[] {"no_such_setting", "application name", "ñame", "x".repeat(200)}) {
            Map<String, String> odd = login("postgres");
            odd.put(name, "1");
            shapes.add(new Shape("parameter named \"" + abbreviate(name) + "\"", t, stage,
                    fatal(startup(Wire.V3_0, odd), "42704", "unrecognized configuration parameter \"" + name + "\"")));
        }
        shapes.add(new Shape("NUL inside a value", t, stage, fatal(untyped(Wire.V3_0, concat(cstrings("user",
                "postgres", "database", DB, "application_name", "a"), utf8("b\0"), new byte[1])), "08P01",
                "invalid message: startup packet layout: expected terminator as last byte")));
        shapes.add(new Shape("NUL inside the user name", t, stage, fatal(untyped(Wire.V3_0, concat(cstrings("user",
                "post", "gres", "database", DB), new byte[1])), "08P01",
                "invalid message: startup packet layout: expected terminator as last byte")));
        Map<String, String> badValue = login("postgres");
        badValue.put("DateStyle", "bogus");
        shapes.add(new Shape("an invalid setting value", t, stage, fatal(startup(Wire.V3_0, badValue), "22023",
                "invalid value for parameter \"DateStyle\": \"bogus\"")));
        Map<String, String> replication = login("postgres");
        replication.put("replication", "database");
        shapes.add(new Shape("replication", t, stage, fatal(startup(Wire.V3_0, replication), "0A000",
                "replication connections are not supported by pgstitch")));
        shapes.add(new Shape("a database nobody routes", t, stage, fatal(startup("postgres", "nowhere"), "3D000",
                "database \"nowhere\" is not routed by pgstitch")));
        int cancel = 1234 << 16 | 5678;
        shapes.add(new Shape("CancelRequest without a secret", t, stage, fatal(untyped(cancel, ints(1)), "08P01",
                "invalid message: CancelRequest secret of 0 bytes")));
        shapes.add(new Shape("CancelRequest with a 257-byte secret", t, stage, fatal(untyped(cancel,
                concat(ints(1), new byte[257])), "08P01", "invalid message: CancelRequest secret of 257 bytes")));
        shapes.add(new Shape("CancelRequest for no session", t, stage, client -> {
            client.send(untyped(cancel, ints(1, 2)));
            expectClosedQuietly(client.readToEnd(ANSWER));
        }));
        shapes.add(new Shape("SSLRequest of 12 bytes", t, stage, fatal(untyped(1234 << 16 | 5679, ints(0)), "08P01",
                "invalid message: SSLRequest/GSSENCRequest of length 12")));
        shapes.add(new Shape("a startup packet in the SSLRequest's write", t, stage, fatal(concat(
                untyped(1234 << 16 | 5679, new byte[0]), startup("postgres", DB)), "08P01",
                "received unencrypted data after SSL request")));
        shapes.add(new Shape("a startup packet in the GSSENCRequest's write", t, stage, fatal(concat(
                untyped(1234 << 16 | 5680, new byte[0]), startup("postgres", DB)), "08P01",
                "received unencrypted data after GSSAPI encryption request")));
    }

    /** What AuthIT does not send already: other message types, lengths, and more SASL garbage. */
    private static void duringAuthentication(List<Shape> shapes) {
        Target t = Target.SCRAM;
        Stage sasl = Stage.SASL_STARTED;
        for (char type : new char[] {'S', 'P', 'd', 'H'}) {
            shapes.add(new Shape("message type " + type, t, sasl, fatal(message(type, new byte[0]), "08P01",
                    "expected SASL response, got message type " + type)));
        }
        shapes.add(new Shape("unknown type '!'", t, sasl, fatal(message('!', new byte[0]), "08P01",
                "invalid message: unknown frontend message type '!'")));
        shapes.add(new Shape("type byte 0x00", t, sasl, fatal(message('\0', new byte[0]), "08P01",
                "invalid message: unknown frontend message type 0x00")));
        shapes.add(new Shape("Terminate", t, sasl, client -> {
            client.send(terminate());
            expectClosedQuietly(client.readToEnd(ANSWER));
        }));
        for (int length : new int[] {3, 65_536, Integer.MAX_VALUE}) {
            shapes.add(new Shape("'p' of length " + length + ", header only", t, sasl, fatal(header('p', length),
                    "08P01", "invalid message: PASSWORD message of length " + length + " (limit 65535)")));
        }
        shapes.add(new Shape("'p' of length 65535 whose body never comes", t, sasl, client -> {
            client.send(header('p', 65_535));
            expectFatal(client.readToEnd(ANSWER), "57014", "canceling authentication due to timeout");
        }));
        shapes.add(new Shape("empty SASLInitialResponse", t, sasl, fatal(message('p', new byte[0]), "08P01",
                "invalid message: SASLInitialResponse mechanism is missing its NUL terminator")));
        shapes.add(new Shape("mechanism only", t, sasl, fatal(message('p', cstrings("SCRAM-SHA-256")), "08P01",
                "invalid message: SASLInitialResponse data length is truncated")));
        shapes.add(new Shape("data length -2", t, sasl, fatal(saslInitial("SCRAM-SHA-256", new byte[0], -2), "08P01",
                "invalid message: SASLInitialResponse data has length -2 but only 0 bytes follow")));
        shapes.add(new Shape("data longer than its length", t, sasl, fatal(saslInitial("SCRAM-SHA-256",
                utf8("n,,n=,r=abc"), 3), "08P01",
                "invalid message: SASLInitialResponse has 8 unexpected trailing bytes")));
        shapes.add(new Shape("SCRAM-SHA-256-PLUS without TLS", t, sasl, fatal(saslInitial("SCRAM-SHA-256-PLUS",
                utf8("p=tls-server-end-point,,n=,r=abc"), -3), "08P01",
                "client selected an invalid SASL authentication mechanism")));
        for (String first : new String[] {"\u00ff\u00fe garbage", "n,,n=,r=", "p=tls-server-end-point,,n=,r=abc",
                "n,,m=ext,n=,r=abc"}) {
            shapes.add(new Shape("client-first \"" + first + "\"", t, sasl, fatal(saslInitial("SCRAM-SHA-256",
                    utf8(first), -3), "08P01", "malformed SCRAM message")));
        }
        shapes.add(new Shape("client-first with an authorization identity", t, sasl, fatal(saslInitial(
                "SCRAM-SHA-256", utf8("n,a=bob,n=,r=abc"), -3), "0A000",
                "client uses authorization identity, but it is not supported")));
        shapes.add(new Shape("control character in the client nonce", t, sasl, fatal(saslInitial("SCRAM-SHA-256",
                utf8("n,,n=,r=ab\u0001c"), -3), "08P01", "client nonce contains invalid characters")));

        Stage continued = Stage.SASL_CONTINUED;
        for (Map.Entry<String, byte[]> last : Map.of(
                "garbage", utf8("garbage"),
                "a proof that is not base64", utf8("c=biws,r=abc,p=!!!!"),
                "empty", new byte[0],
                "60 000 bytes", utf8("c=biws,r=" + "a".repeat(60_000))).entrySet()) {
            shapes.add(new Shape("client-final " + last.getKey(), t, continued, fatal(message('p', last.getValue()),
                    "08P01", "malformed SCRAM message")));
        }
        shapes.add(new Shape("a second SASLInitialResponse", t, continued, fatal(saslInitial("SCRAM-SHA-256",
                utf8("n,,n=,r=abc"), -3), "08P01", "malformed SCRAM message")));
        shapes.add(new Shape("a Query mid-exchange", t, continued, fatal(query("select 1"), "08P01",
                "expected SASL response, got message type Q")));

        Stage md5 = Stage.MD5_REQUESTED;
        shapes.add(new Shape("password without NUL", t, md5, fatal(message('p', utf8("md5abc")), "08P01",
                "invalid message: password is missing its NUL terminator")));
        shapes.add(new Shape("empty password message", t, md5, fatal(message('p', new byte[0]), "08P01",
                "invalid message: password is missing its NUL terminator")));
        shapes.add(new Shape("two strings", t, md5, fatal(message('p', cstrings("md5", "x")), "08P01",
                "invalid message: PasswordMessage has 2 unexpected trailing bytes")));
        shapes.add(new Shape("a Query instead of the password", t, md5, fatal(query("select 1"), "08P01",
                "expected password response, got message type Q")));
    }

    private static void afterLogin(List<Shape> shapes, Target t) {
        Stage in = Stage.LOGGED_IN;
        boolean routerReads = t == Target.RPC;
        shapes.add(new Shape("unknown type '!'", t, in, fatal(message('!', new byte[0]), "08P01",
                "invalid message: unknown frontend message type '!'")));
        shapes.add(new Shape("type byte 0xff", t, in, fatal(message((char) 0xff, new byte[0]), "08P01",
                "invalid message: unknown frontend message type 0xff")));
        shapes.add(new Shape("'p' after login", t, in, fatal(message('p', cstrings("x")), "08P01",
                "invalid frontend message type 112")));
        for (int length : new int[] {0, 3, 0x4000_0000}) {
            shapes.add(new Shape("Query of length " + length, t, in, fatal(header('Q', length), "08P01",
                    "invalid message: QUERY message of length " + length + " (limit 1073741822)")));
        }
        shapes.add(new Shape("Sync of length 5", t, in, fatal(concat(header('S', 5), new byte[1]), "08P01",
                "invalid message: SYNC message of length 5 (limit 4)")));
        shapes.add(new Shape("Execute of length 10001", t, in, fatal(header('E', 10_001), "08P01",
                "invalid message: EXECUTE message of length 10001 (limit 10000)")));
        shapes.add(new Shape("Terminate with a body", t, in, fatal(concat(header('X', 6), new byte[2]), "08P01",
                "invalid message: TERMINATE message of length 6 (limit 4)")));
        // PostgreSQL keeps the session after these (ERROR); the RPC router reads the text first (FATAL)
        byte[] noNul = message('Q', utf8("select 1"));
        byte[] embeddedNul = message('Q', utf8("select 1\0junk\0"));
        byte[] parseNoNul = concat(message('P', utf8("\0select 1")), sync());
        byte[] parseTypes = concat(message('P', concat(cstrings("", "select 1"), shorts(-1))), sync());
        if (routerReads) {
            shapes.add(new Shape("Query without NUL", t, in, fatal(noNul, "08P01",
                    "invalid message: Query string is missing its NUL terminator")));
            shapes.add(new Shape("Query with an embedded NUL", t, in, fatal(embeddedNul, "08P01",
                    "invalid message: Query has 5 unexpected trailing bytes")));
            shapes.add(new Shape("empty Query", t, in, fatal(message('Q', new byte[0]), "08P01",
                    "invalid message: Query string is missing its NUL terminator")));
            shapes.add(new Shape("Parse without NUL", t, in, fatal(parseNoNul, "08P01",
                    "invalid message: Parse query is missing its NUL terminator")));
            shapes.add(new Shape("Parse announcing 65535 types", t, in, fatal(parseTypes, "08P01",
                    "invalid message: Parse declares 65535 parameter types but only 0 bytes follow")));
        } else {
            shapes.add(new Shape("Query without NUL", t, in, error(noNul, "08P01", "invalid string in message")));
            shapes.add(new Shape("Query with an embedded NUL", t, in, error(embeddedNul, "08P01",
                    "invalid message format")));
            shapes.add(new Shape("empty Query", t, in, error(message('Q', new byte[0]), "08P01",
                    "invalid string in message")));
            shapes.add(new Shape("Parse without NUL", t, in, error(parseNoNul, "08P01", "invalid string in message")));
            shapes.add(new Shape("Parse announcing 65535 types", t, in, error(parseTypes, "08P01",
                    "insufficient data left in message")));
        }
        byte[] parseOne = parse("", "select $1::int");
        shapes.add(new Shape("Bind with more values than announced", t, in, error(concat(parseOne,
                bindRaw("", "", concat(shorts(0, 1), ints(1), utf8("1"), ints(1), utf8("2"), shorts(0))),
                execute("", 0), sync()), "08P01", "invalid message format")));
        shapes.add(new Shape("Bind of 2 parameters for 1", t, in, error(concat(parseOne, bind("", "", "1", "2"),
                execute("", 0), sync()), "08P01",
                "bind message supplies 2 parameters, but prepared statement \"\" requires 1")));
        shapes.add(new Shape("Bind with a negative parameter length", t, in, error(concat(parseOne,
                bindRaw("", "", concat(shorts(0, 1), ints(-2), shorts(0))), execute("", 0), sync()), "08P01",
                "insufficient data left in message")));
        shapes.add(new Shape("Execute of a missing portal", t, in, error(concat(execute("nope", 0), sync()), "34000",
                "portal \"nope\" does not exist")));
        shapes.add(new Shape("Describe of kind 'Z'", t, in, error(concat(describe('Z', "x"), sync()), "08P01",
                "invalid DESCRIBE message subtype 90")));
        shapes.add(new Shape("Close of kind 'Z'", t, in, error(concat(message('C', concat(utf8("Z"),
                cstrings("x"))), sync()), "08P01", "invalid CLOSE message subtype 90")));
        shapes.add(new Shape("FunctionCall of OID 0", t, in, error(Wire.functionCall(0), "42883",
                "function with OID 0 does not exist")));
        shapes.add(new Shape("FunctionCall cut short", t, in, error(message('F', ints(89)), "08P01",
                "insufficient data left in message")));
        shapes.add(new Shape("FunctionCall of version()", t, in, client -> {
            client.send(Wire.functionCall(89)); // pg_proc oid 89: version()
            WireClient.Answer answer = client.readUntil('Z', ANSWER);
            assertThat(answer.messages()).as(answer.toString()).extracting(Wire.Message::type)
                    .containsExactly('V', 'Z');
            assertThat(answer.messages().get(0).text()).contains("PostgreSQL");
            expectSessionWorks(client);
        }));
        shapes.add(new Shape("CopyData, CopyDone and CopyFail outside COPY", t, in, client -> {
            client.send(copyData("garbage"), Wire.copyDone(), message('f', cstrings("x")), query("select 41 + 1"));
            WireClient.Answer answer = client.readUntil('Z', ANSWER);
            assertThat(answer.messages()).as("ignored, as PostgreSQL does: " + answer).extracting(Wire.Message::type)
                    .containsExactly('T', 'D', 'C', 'Z');
            assertThat(answer.messages().get(1).text()).contains("42");
        }));
        shapes.add(new Shape("Sync storm: 500 × (Execute of a missing portal, Flush, Sync)", t, in, client -> {
            client.send(repeat(concat(execute("nope", 0), flush(), sync()), 500));
            List<Wire.Message> all = readReadyForQuery(client, 500);
            assertThat(all).hasSize(1000);
            for (int i = 0; i < 1000; i += 2) {
                assertThat(all.get(i).sqlState()).as("answer " + i).isEqualTo("34000");
                assertThat(all.get(i + 1).type()).as("answer " + (i + 1)).isEqualTo('Z');
            }
            expectSessionWorks(client);
        }));
        shapes.add(new Shape("10 000 pipelined Syncs", t, in, client -> {
            client.send(repeat(sync(), 10_000));
            List<Wire.Message> all = readReadyForQuery(client, 10_000);
            assertThat(all).hasSize(10_000).allSatisfy(m -> assertThat(m.toString()).isEqualTo("Z(I)"));
            expectSessionWorks(client);
        }));
        shapes.add(new Shape("Terminate mid-COPY", t, in, client -> {
            startCopy(client);
            client.send(copyData("1\n"), terminate());
            WireClient.Answer answer = client.readToEnd(ANSWER);
            assertThat(answer.closed()).as(answer.toString()).isTrue();
            assertThat(answer.error()).as("a Terminate is not answered").isNull();
        }));
        shapes.add(new Shape("a Query mid-COPY", t, in, client -> {
            startCopy(client);
            client.send(query("select 1"));
            WireClient.Answer answer = client.readToEnd(ANSWER);
            assertThat(answer.closed()).as(answer.toString()).isTrue();
            assertThat(answer.messages()).as(answer.toString()).hasSize(2);
            expectError(answer.messages().get(0), "ERROR", "08P01",
                    "unexpected message type 0x51 during COPY from stdin");
            expectError(answer.messages().get(1), "FATAL", "08P01",
                    "terminating connection because protocol synchronization was lost");
        }));
        shapes.add(new Shape("an unknown type mid-COPY", t, in, client -> {
            startCopy(client);
            client.send(message('!', new byte[0]));
            expectFatal(client.readToEnd(ANSWER), "08P01", "invalid message: unknown frontend message type '!'");
        }));
        shapes.add(new Shape("Flush mid-COPY (ignored)", t, in, client -> {
            startCopy(client);
            client.send(copyData("3\n"), flush(), Wire.copyDone());
            WireClient.Answer answer = client.readUntil('Z', ANSWER);
            assertThat(answer.messages()).as(answer.toString()).extracting(Wire.Message::toString)
                    .containsExactly("C", "Z(I)");
            expectSessionWorks(client);
        }));
    }

    private static void acrossStitchedRequests(List<Shape> shapes) {
        Target t = Target.RPC;
        Stage in = Stage.LOGGED_IN;
        byte[] stitched = query("select 1; select iasql_noop(); select 2");
        byte[] rpcExecute = concat(parse("", "select iasql_noop()"), bind("", ""), execute("", 0));
        shapes.add(new Shape("stitched Query, then an unknown type", t, in, fatal(concat(stitched,
                message('!', new byte[0])), "08P01", "invalid message: unknown frontend message type '!'")));
        shapes.add(new Shape("stitched Query, then a Query of length 3", t, in, fatal(concat(stitched,
                header('Q', 3)), "08P01", "invalid message: QUERY message of length 3")));
        shapes.add(new Shape("stitched Query, then a Query without NUL", t, in, client -> {
            client.send(stitched, message('Q', utf8("select 3")));
            WireClient.Answer answer = client.readToEnd(ANSWER);
            assertThat(answer.count('D')).as("the stitched request is answered first: " + answer).isEqualTo(3);
            expectFatal(answer, "08P01", "invalid message: Query string is missing its NUL terminator");
        }));
        shapes.add(new Shape("stitched Query, then 10 000 Syncs", t, in, client -> {
            client.send(stitched, repeat(sync(), 10_000));
            List<Wire.Message> all = readReadyForQuery(client, 10_001);
            assertThat(all.stream().filter(m -> m.type() == 'D').map(Wire.Message::text).toList())
                    .hasSize(3).anySatisfy(row -> assertThat(row).contains("ok"));
            expectSessionWorks(client);
        }));
        shapes.add(new Shape("stitched Query, then Terminate", t, in, client -> {
            client.send(stitched, terminate());
            WireClient.Answer answer = client.readToEnd(ANSWER);
            assertThat(answer.closed()).as(answer.toString()).isTrue();
            assertThat(answer.error()).as(answer.toString()).isNull();
        }));
        shapes.add(new Shape("stitched Query, then half-close", t, in, client -> {
            client.send(stitched);
            client.halfClose();
            WireClient.Answer answer = client.readToEnd(ANSWER);
            assertThat(answer.closed()).as(answer.toString()).isTrue();
            assertThat(answer.messages()).as(answer.toString()).extracting(Wire.Message::type)
                    .containsExactly('T', 'D', 'C', 'T', 'D', 'C', 'T', 'D', 'C', 'Z');
        }));
        shapes.add(new Shape("stitched Query, then CopyData and a FunctionCall", t, in, client -> {
            client.send(stitched, copyData("stray"), Wire.copyDone(), Wire.functionCall(89));
            List<Wire.Message> all = readReadyForQuery(client, 2);
            assertThat(all).extracting(Wire.Message::type)
                    .containsExactly('T', 'D', 'C', 'T', 'D', 'C', 'T', 'D', 'C', 'Z', 'V', 'Z');
        }));
        shapes.add(new Shape("stitched Query starting a COPY", t, in, client -> {
            client.send(query("select iasql_noop(); copy shapes_copy from stdin"));
            WireClient.Answer started = client.readUntil('G', ANSWER);
            assertThat(started.messages()).as(started.toString()).extracting(Wire.Message::type)
                    .containsExactly('T', 'D', 'C', 'G');
            client.send(copyData("10\n11\n"), Wire.copyDone());
            WireClient.Answer done = client.readUntil('Z', ANSWER);
            assertThat(done.messages()).as(done.toString()).extracting(Wire.Message::toString)
                    .containsExactly("C", "Z(I)");
            assertThat(done.messages().get(0).text()).startsWith("COPY 2");
        }));
        shapes.add(new Shape("RPC Bind with a negative parameter length", t, in, error(concat(
                parse("", "select iasql_noop()"), bindRaw("", "", concat(shorts(0, 1), ints(-2), shorts(0))),
                execute("", 0), sync()), "08P01",
                "bind message supplies 1 parameters, but prepared statement \"\" requires 0")));
        shapes.add(new Shape("RPC Execute, then Execute of a missing portal", t, in, error(concat(rpcExecute,
                execute("nope", 0), sync()), "34000", "portal \"nope\" does not exist")));
        shapes.add(new Shape("RPC Execute, Flush, then Execute of a missing portal", t, in, error(concat(rpcExecute,
                flush(), execute("nope", 0), sync()), "34000", "portal \"nope\" does not exist")));
        shapes.add(new Shape("RPC Execute, then an unknown type", t, in, fatal(concat(rpcExecute,
                message('!', new byte[0]), sync()), "08P01", "invalid message: unknown frontend message type '!'")));
        shapes.add(new Shape("RPC Execute, then Describe of kind 'Z'", t, in, fatal(concat(rpcExecute,
                describe('Z', "x"), sync()), "08P01", "invalid message: Describe target type 90 is neither S nor P")));
        shapes.add(new Shape("RPC Parse, then Execute without NUL", t, in, fatal(concat(
                parse("", "select iasql_noop()"), bind("", ""), message('E', utf8("abc")), sync()), "08P01",
                "invalid message: Execute portal name is missing its NUL terminator")));
        shapes.add(new Shape("RPC Parse, then Close without NUL", t, in, fatal(concat(
                parse("x", "select iasql_noop()"), message('C', utf8("Sx")), sync()), "08P01",
                "invalid message: Close name is missing its NUL terminator")));
        shapes.add(new Shape("RPC Execute, no Sync, then half-close", t, in, client -> {
            client.send(rpcExecute);
            client.halfClose();
            expectClosedQuietly(client.readToEnd(ANSWER));
        }));
        shapes.add(new Shape("RPC Execute, then Terminate before the Sync", t, in, client -> {
            client.send(rpcExecute, terminate());
            expectClosedQuietly(client.readToEnd(ANSWER));
        }));
        shapes.add(new Shape("RPC Execute, then two Syncs", t, in, client -> {
            client.send(rpcExecute, sync(), sync());
            List<Wire.Message> all = readReadyForQuery(client, 2);
            assertThat(all).extracting(Wire.Message::type).containsExactly('1', '2', 'D', 'C', 'Z', 'Z');
            expectSessionWorks(client);
        }));
    }

    // ---- running a shape ----

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void shape(String name, Shape shape) throws Exception {
        try {
            run(shape);
        } catch (AssertionError failure) {
            if (shape.defect() != null && String.valueOf(failure.getMessage()).contains(shape.symptom())) {
                Assumptions.abort("defect: " + shape.defect() + " (fails with: " + shape.symptom() + ")");
            }
            throw failure;
        }
        assertThat(shape.defect()).as("marked as a defect of pgstitch but passes: remove the mark").isNull();
    }

    private static void run(Shape shape) throws Exception {
        TestProxy proxy = proxy(shape.target());
        int baseline = proxy.server().clientCount();
        try (WireClient client = WireClient.connect(proxy.port())) {
            enter(client, shape.stage());
            shape.play().play(client);
        }
        assertClientsBackTo(proxy, baseline);
        assertNewClientWorks(shape.target());
        assertShardHasNoBusyBackend();
        LogWatch.check(shape.toString());
    }

    private static TestProxy proxy(Target target) {
        return switch (target) {
            case RPC -> rpc;
            case PLAIN -> plain;
            case SCRAM -> scram;
        };
    }

    private static void enter(WireClient client, Stage stage) throws IOException {
        switch (stage) {
            case UNSTARTED -> {
            }
            case SASL_STARTED, SASL_CONTINUED -> {
                client.send(startup("alice", DB));
                expectAuthenticationRequest(client, 10);
                if (stage == Stage.SASL_CONTINUED) {
                    client.send(saslInitial("SCRAM-SHA-256", utf8("n,,n=,r=abcdef"), -3));
                    expectAuthenticationRequest(client, 11);
                }
            }
            case MD5_REQUESTED -> {
                client.send(startup("bob", DB));
                expectAuthenticationRequest(client, 5);
            }
            case LOGGED_IN -> {
                client.send(startup("postgres", DB));
                WireClient.Answer login = client.readUntil('Z', ANSWER);
                assertThat(login.messages()).as("logged in: " + login).last().hasToString("Z(I)");
            }
        }
    }

    private static void expectAuthenticationRequest(WireClient client, int code) throws IOException {
        WireClient.Answer answer = client.readUntil('R', ANSWER);
        assertThat(answer.messages()).as(answer.toString()).hasSize(1);
        assertThat(java.nio.ByteBuffer.wrap(answer.messages().get(0).body()).getInt()).isEqualTo(code);
    }

    private static void assertClientsBackTo(TestProxy proxy, int baseline) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (proxy.server().clientCount() != baseline && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(proxy.server().clientCount()).as("clients held by the proxy after the shape's client closed")
                .isEqualTo(baseline);
    }

    private static void assertNewClientWorks(Target target) throws Exception {
        if (target == Target.SCRAM) {
            Properties alice = new Properties();
            alice.setProperty("user", "alice");
            alice.setProperty("password", "alice-pw");
            try (Connection connection = scram.connect(DB, alice);
                 ResultSet rs = connection.createStatement().executeQuery("select 1")) {
                assertThat(rs.next()).isTrue();
            }
            return;
        }
        try (WireClient fresh = WireClient.loggedIn(proxy(target).port(), "postgres", DB, ANSWER)) {
            expectSessionWorks(fresh);
        }
    }

    /** What the shard saw ended: no backend of the test database is left running or in a transaction. */
    private static void assertShardHasNoBusyBackend() throws Exception {
        String sql = "select coalesce(string_agg(state || ': ' || query, '; '), '') from pg_stat_activity"
                + " where datname = '" + DB + "' and state <> 'idle' and pid <> pg_backend_pid()";
        try (Connection shard = DriverManager.getConnection(cluster.shard(1).jdbcUrl("postgres"), "postgres", "");
             Statement statement = shard.createStatement()) {
            String busy = "";
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            do {
                try (ResultSet rs = statement.executeQuery(sql)) {
                    rs.next();
                    busy = rs.getString(1);
                }
                if (busy.isEmpty()) {
                    return;
                }
                Thread.sleep(20);
            } while (System.nanoTime() < deadline);
            // ended here so that the next shape starts clean, then reported
            statement.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = '" + DB
                    + "' and state <> 'idle' and pid <> pg_backend_pid()");
            assertThat(busy).as("backends of " + DB + " still busy on the shard").isEmpty();
        }
    }

    // ---- expectations ----

    private static Play fatal(byte[] bytes, String sqlState, String text) {
        return client -> {
            client.sendQuietly(bytes);
            expectFatal(client.readToEnd(ANSWER), sqlState, text);
        };
    }

    /** PostgreSQL's own ERROR, after which the session goes on. */
    private static Play error(byte[] bytes, String sqlState, String text) {
        return client -> {
            client.send(bytes);
            WireClient.Answer answer = client.readUntil('Z', ANSWER);
            assertThat(answer.error()).as("an ErrorResponse: " + answer).isNotNull();
            expectError(answer.error(), "ERROR", sqlState, text);
            assertThat(answer.messages()).as(answer.toString()).last().hasToString("Z(I)");
            expectSessionWorks(client);
        };
    }

    /** A FATAL ErrorResponse with {@code sqlState} whose message contains {@code text}, last, then the close. */
    static void expectFatal(WireClient.Answer answer, String sqlState, String text) {
        assertThat(answer.closed()).as("closed after the FATAL: " + answer).isTrue();
        assertThat(answer.messages()).as("an ErrorResponse: " + answer).isNotEmpty();
        Wire.Message last = answer.messages().get(answer.messages().size() - 1);
        assertThat(answer.messages().stream().filter(Wire.Message::isError)).as(answer.toString()).hasSize(1);
        expectError(last, "FATAL", sqlState, text);
    }

    private static void expectError(Wire.Message error, String severity, String sqlState, String text) {
        assertThat(error.type()).as(error.toString()).isEqualTo('E');
        assertThat(error.severity()).as(error.toString()).isEqualTo(severity);
        assertThat(error.sqlState()).as(error.toString()).isEqualTo(sqlState);
        assertThat(error.message()).as(error.toString()).contains(text);
        assertThat(String.join(" ", error.fields().values())).as("no Java names in " + error.fields())
                .doesNotContainPattern(JAVA_NAME);
    }

    private static void expectClosedQuietly(WireClient.Answer answer) {
        assertThat(answer.closed()).as(answer.toString()).isTrue();
        assertThat(answer.messages()).as(answer.toString()).isEmpty();
    }

    /** The same session answers a query: it was neither closed nor left out of step. */
    private static void expectSessionWorks(WireClient client) throws IOException {
        client.send(query("select 'still here'"));
        WireClient.Answer answer = client.readUntil('Z', ANSWER);
        assertThat(answer.messages()).as(answer.toString()).extracting(Wire.Message::type)
                .containsExactly('T', 'D', 'C', 'Z');
        assertThat(answer.messages().get(1).text()).contains("still here");
    }

    /** Reads every message up to the {@code count}th ReadyForQuery. */
    private static List<Wire.Message> readReadyForQuery(WireClient client, int count) throws IOException {
        List<Wire.Message> all = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            WireClient.Answer answer = client.readUntil('Z', ANSWER);
            all.addAll(answer.messages());
            assertThat(answer.messages()).as("ReadyForQuery " + (i + 1) + " of " + count + ": " + answer)
                    .last().extracting(Wire.Message::type).isEqualTo('Z');
        }
        return all;
    }

    private static void startCopy(WireClient client) throws IOException {
        client.send(query("copy shapes_copy from stdin"));
        WireClient.Answer answer = client.readUntil('G', ANSWER);
        assertThat(answer.messages()).as(answer.toString()).extracting(Wire.Message::type).containsExactly('G');
    }

    /** SASLInitialResponse; a {@code declaredLength} of -3 means the data's true length. */
    private static byte[] saslInitial(String mechanism, byte[] data, int declaredLength) {
        return message('p', concat(cstrings(mechanism), ints(declaredLength == -3 ? data.length : declaredLength),
                data));
    }

    private static Map<String, String> login(String user) {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", user);
        parameters.put("database", DB);
        return parameters;
    }

    private static String abbreviate(String s) {
        return s.length() > 20 ? s.substring(0, 8) + "…(" + s.length() + " bytes)" : s;
    }

    // ---- the checks themselves must be able to fail ----

    @Test
    void theLeakCheckSeesALostBuffer() {
        LogWatch.acknowledge();
        loseABuffer();
        List<String> problems = LogWatch.problems();
        LogWatch.acknowledge(); // the leak was made on purpose: it must not fail this test's own check
        assertThat(problems).as("the LEAK report of a buffer dropped without release").anySatisfy(
                problem -> assertThat(problem).contains("LEAK:"));
    }

    private static void loseABuffer() {
        ByteBufAllocator.DEFAULT.directBuffer(64).writeLong(42); // never released
    }

    // ---- defects: each test states what PostgreSQL does and fails until pgstitch does the same ----

    @Test
    void aClientThatDisconnectsDuringCopyFromStdinIsReleased() throws Exception {
        for (TestProxy proxy : new TestProxy[] {plain, rpc}) {
            int baseline = proxy.server().clientCount();
            try (WireClient client = WireClient.loggedIn(proxy.port(), "postgres", DB, ANSWER)) {
                startCopy(client);
                client.send(copyData("4\n"));
                client.halfClose();
                WireClient.Answer answer = client.readToEnd(ANSWER);
                assertThat(answer.closed()).as("closed: " + answer).isTrue();
                assertThat(answer.error()).as("an ErrorResponse: " + answer).isNotNull();
                assertThat(answer.error().sqlState()).isIn("08006", "08P01");
            }
            assertClientsBackTo(proxy, baseline);
            assertShardHasNoBusyBackend();
            try (WireClient client = WireClient.loggedIn(proxy.port(), "postgres", DB, ANSWER)) {
                startCopy(client);
                client.send(copyData("5\n"));
            } // closed without a word
            assertClientsBackTo(proxy, baseline);
            assertShardHasNoBusyBackend();
        }
    }

    /** PostgreSQL reads a Terminate only after the Query before it has run: its work is done, not cancelled. */
    @Test
    void aTerminatePipelinedBehindAQueryLetsTheQueryFinish() throws Exception {
        int marker = 7100;
        for (TestProxy proxy : new TestProxy[] {plain, rpc}) {
            marker++;
            try (WireClient client = WireClient.loggedIn(proxy.port(), "postgres", DB, ANSWER)) {
                client.send(query("select pg_sleep(0.3); insert into shapes_copy values (" + marker + ")"),
                        terminate());
                client.readToEnd(ANSWER);
            }
            assertShardHasNoBusyBackend();
            try (Connection shard = DriverManager.getConnection(cluster.shard(1).jdbcUrl(DB), "postgres", "");
                 ResultSet rs = shard.createStatement().executeQuery(
                         "select count(*) from shapes_copy where a = " + marker)) {
                rs.next();
                assertThat(rs.getInt(1)).as("the insert behind the sleep, through " + proxy).isEqualTo(1);
            }
        }
    }

    /** As PostgreSQL: the login is answered, then the Terminate read behind it ends the session. */
    @Test
    void aTerminateSentWithTheStartupPacketEndsTheSessionCleanly() throws Exception {
        for (TestProxy proxy : new TestProxy[] {plain, rpc}) {
            int baseline = proxy.server().clientCount();
            try (WireClient client = WireClient.connect(proxy.port())) {
                client.send(Wire.startup("postgres", DB), terminate());
                WireClient.Answer answer = client.readToEnd(ANSWER);
                assertThat(answer.closed()).as("closed: " + answer).isTrue();
                assertThat(answer.messages()).as(answer.toString()).extracting(Wire.Message::type)
                        .startsWith('R').endsWith('Z').doesNotContain('E');
            }
            assertClientsBackTo(proxy, baseline);
            assertShardHasNoBusyBackend();
        }
    }

    /** PostgreSQL answers the COPY, then ends it on the EOF; found by MutationFuzzIT (seed 11, case 108). */
    @Test
    void aClientThatHalfClosesBeforeItsCopyStartsIsNotLeftWaiting() throws Exception {
        for (TestProxy proxy : new TestProxy[] {plain, rpc}) {
            int baseline = proxy.server().clientCount();
            try (WireClient client = WireClient.loggedIn(proxy.port(), "postgres", DB, ANSWER)) {
                client.send(query("copy shapes_copy from stdin"));
                client.halfClose(); // before the CopyInResponse can have arrived
                WireClient.Answer answer = client.readToEnd(ANSWER);
                assertThat(answer.closed()).as("closed: " + answer).isTrue();
                assertThat(answer.messages()).as(answer.toString()).extracting(Wire.Message::type)
                        .containsExactly('G', 'E');
                assertThat(answer.error().sqlState()).isEqualTo("08P01");
            }
            assertClientsBackTo(proxy, baseline);
            assertShardHasNoBusyBackend();
        }
    }

    @Test
    void aSyncIgnoredDuringCopyLeavesTheSessionInStep() throws Exception {
        for (TestProxy proxy : new TestProxy[] {rpc, plain}) {
            int baseline = proxy.server().clientCount();
            try (WireClient client = WireClient.loggedIn(proxy.port(), "postgres", DB, ANSWER)) {
                startCopy(client);
                client.send(copyData("6\n"), sync(), Wire.copyDone());
                WireClient.Answer copied = client.readUntil('Z', ANSWER);
                assertThat(copied.messages()).as(copied.toString()).extracting(Wire.Message::toString)
                        .containsExactly("C", "Z(I)");
                client.send(query("select 1; select iasql_noop(); select 2"));
                WireClient.Answer answer = client.readUntil('Z', ANSWER);
                assertThat(answer.messages()).as(answer.toString()).extracting(Wire.Message::type)
                        .containsExactly('T', 'D', 'C', 'T', 'D', 'C', 'T', 'D', 'C', 'Z');
            }
            assertClientsBackTo(proxy, baseline);
            try (WireClient client = WireClient.loggedIn(proxy.port(), "postgres", DB, ANSWER)) { // extended COPY
                client.send(parse("", "copy shapes_copy from stdin"), bind("", ""), execute("", 0), sync());
                WireClient.Answer started = client.readUntil('G', ANSWER);
                assertThat(started.messages()).as(started.toString()).extracting(Wire.Message::type)
                        .containsExactly('1', '2', 'G');
                client.send(copyData("7\n"), Wire.copyDone(), sync());
                WireClient.Answer copied = client.readUntil('Z', ANSWER);
                assertThat(copied.messages()).as(copied.toString()).extracting(Wire.Message::toString)
                        .containsExactly("C", "Z(I)");
                expectSessionWorks(client);
            }
            assertClientsBackTo(proxy, baseline);
        }
    }

    @Test
    void messagesDiscardedAfterAnExtendedProtocolErrorAreNotAwaited() throws Exception {
        byte[] missing = bind("", "");
        try (WireClient client = WireClient.loggedIn(rpc.port(), "postgres", DB, ANSWER)) {
            client.send(missing, query("select 1"), sync());
            WireClient.Answer discarded = client.readUntil('Z', ANSWER);
            assertThat(discarded.messages()).as(discarded.toString()).extracting(Wire.Message::toString)
                    .containsExactly("E(ERROR 26000 unnamed prepared statement does not exist)", "Z(I)");
            client.send(query("select 1; select iasql_noop(); select 2"));
            WireClient.Answer stitched = client.readUntil('Z', ANSWER);
            assertThat(stitched.messages()).as(stitched.toString()).extracting(Wire.Message::type)
                    .containsExactly('T', 'D', 'C', 'T', 'D', 'C', 'T', 'D', 'C', 'Z');
            // an RPC call inside the failed batch is discarded as well, not stitched and answered
            client.send(missing, query("select 1; select iasql_noop(); select 2"), sync());
            WireClient.Answer call = client.readUntil('Z', ANSWER);
            assertThat(call.messages()).as(call.toString()).extracting(Wire.Message::toString)
                    .containsExactly("E(ERROR 26000 unnamed prepared statement does not exist)", "Z(I)");
            expectSessionWorks(client);
        }
        for (TestProxy proxy : new TestProxy[] {plain, rpc}) {
            int baseline = proxy.server().clientCount();
            try (WireClient client = WireClient.loggedIn(proxy.port(), "postgres", DB, ANSWER)) {
                client.send(missing, query("select 1"));
                client.halfClose();
                WireClient.Answer answer = client.readToEnd(ANSWER);
                assertThat(answer.messages()).as(answer.toString()).extracting(Wire.Message::toString)
                        .containsExactly("E(ERROR 26000 unnamed prepared statement does not exist)");
                assertThat(answer.closed()).as("closed: " + answer).isTrue();
            }
            assertClientsBackTo(proxy, baseline);
        }
    }

    @Test
    void messagesPipelinedBehindAnUnroutedStartupAreReleased() throws Exception {
        LogWatch.acknowledge();
        for (int i = 0; i < 20; i++) {
            try (WireClient client = WireClient.connect(rpc.port())) {
                client.send(startup("postgres", "nowhere"), repeat(query("select 1"), 5));
                expectFatal(client.readToEnd(ANSWER), "3D000", "database \"nowhere\" is not routed by pgstitch");
            }
        }
        LogWatch.check("pipelined behind an unrouted startup packet");
    }

    @Test
    void aClientStreamingAHugeMessageGetsNoInternalErrorAndOthersGoOn() throws Exception {
        Path config = dir.resolve("small.yaml");
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Files.writeString(config, """
                listen: { host: 127.0.0.1, port: %d }
                auth: { method: trust }
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres }
                routes:
                  %s: shard1
                """.formatted(port, cluster.shard(1).port(), DB));
        Path log = dir.resolve("small.log");
        Process proxy = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:MaxDirectMemorySize=64m", "-cp", System.getProperty("java.class.path"),
                "io.pgstitch.proxy.cli.Main", "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            awaitListening(port, proxy, log);
            try (WireClient hostile = WireClient.loggedIn(port, "postgres", DB, ANSWER)) {
                hostile.send(header('Q', 0x3fff_fff0));
                byte[] megabyte = new byte[1 << 20];
                java.util.Arrays.fill(megabyte, (byte) 'x');
                Future<Integer> sent = writer.submit(() -> {
                    int count = 0;
                    try {
                        for (; count < 160; count++) {
                            hostile.send(megabyte);
                        }
                    } catch (IOException closed) {
                        // the proxy gave up on it: its answer is read below
                    }
                    return count;
                });
                Thread.sleep(3_000); // well past the proxy's 64 MB of direct memory, if it buffers
                try (Connection bystander = DriverManager.getConnection(
                        "jdbc:postgresql://127.0.0.1:" + port + "/" + DB, "postgres", "");
                     ResultSet rs = bystander.createStatement().executeQuery("select length(repeat('y', 4000000))")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).as("another session goes on").isEqualTo(4_000_000);
                }
                WireClient.Answer answer = hostile.readToEnd(Duration.ofSeconds(2));
                for (Wire.Message message : answer.messages()) {
                    if (message.isError()) {
                        assertThat(message.sqlState()).as(message.toString()).isNotEqualTo("XX000");
                        assertThat(message.message()).doesNotContainPattern(JAVA_NAME);
                    }
                }
                sent.cancel(true);
            }
        } finally {
            writer.shutdownNow();
            proxy.destroyForcibly();
            proxy.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void awaitListening(int port, Process proxy, Path log) throws Exception {
        for (int i = 0; i < 300; i++) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                if (!proxy.isAlive()) {
                    throw new AssertionError("pgstitch run exited: " + Files.readString(log));
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("pgstitch run did not listen: " + Files.readString(log));
    }
}
