package io.pgstitch.sqlsplit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The cost the splitter adds to every Query: the fast path on pgbench's statements (no RPC candidate, so no
 * JSqlParser), as Java strings and as the bytes the proxy gets, and whole-text analysis of a 100 KB migration
 * script. Run with scripts/bench-lexer.sh.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class LexerBenchmark {

    /** pgbench -S's statement (55 bytes). */
    static final String PGBENCH_SELECT = "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;";
    /** pgbench's TPC-B update, padded with a comment to 100 bytes. */
    static final String STATEMENT_100_BYTES =
            "UPDATE pgbench_accounts SET abalance = abalance + -4120 WHERE aid = 48213; /* 100 bytes padding */";

    /** pgbench -S's statement as a client sends it. */
    static final byte[] PGBENCH_SELECT_BYTES = PGBENCH_SELECT.getBytes(StandardCharsets.UTF_8);
    /** A short SJIS statement with a non-ASCII literal (71 bytes): the one case that copies the text. */
    static final byte[] SJIS_STATEMENT_BYTES = "SELECT abalance FROM pgbench_accounts WHERE name = '予約' AND aid = 1;"
            .getBytes(Charset.forName("windows-31j"));
    private static final ClientEncoding SJIS = ClientEncoding.of("SJIS");

    private QueryAnalyzer analyzer;
    private String migration;

    @Setup
    public void setUp() {
        analyzer = new QueryAnalyzer(new RpcFunctionMatcher(List.of("iasql_*")), 1024);
        StringBuilder script = new StringBuilder();
        int i = 0;
        while (script.length() < 100 * 1024) {
            script.append("-- step ").append(i).append('\n')
                    .append("CREATE TABLE t").append(i).append(" (id bigint PRIMARY KEY, name text NOT NULL, ")
                    .append("created timestamptz DEFAULT now());\n")
                    .append("INSERT INTO t").append(i).append(" (id, name) VALUES (1, 'it''s; fine'), (2, E'a\\'b');\n")
                    .append("CREATE FUNCTION f").append(i)
                    .append("() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;\n");
            i++;
        }
        migration = script.toString();
    }

    @Benchmark
    public boolean fastPathPgbenchSelect() {
        return analyzer.mayContainRpcCall(PGBENCH_SELECT);
    }

    @Benchmark
    public boolean fastPath100ByteStatement() {
        return analyzer.mayContainRpcCall(STATEMENT_100_BYTES);
    }

    /** What the proxy did before it kept the client's bytes: decode as UTF-8, then the fast path. */
    @Benchmark
    public boolean fastPathPgbenchSelectDecodedAsUtf8() {
        return analyzer.mayContainRpcCall(new String(PGBENCH_SELECT_BYTES, StandardCharsets.UTF_8));
    }

    /** What the proxy does: the bytes one char per byte, then the fast path in the session's encoding. */
    @Benchmark
    public boolean fastPathPgbenchSelectAsBytes() {
        return analyzer.mayContainRpcCall(new String(PGBENCH_SELECT_BYTES, StandardCharsets.ISO_8859_1),
                ClientEncoding.UTF8, true);
    }

    @Benchmark
    public boolean fastPathSjisStatementAsBytes() {
        return analyzer.mayContainRpcCall(new String(SJIS_STATEMENT_BYTES, StandardCharsets.ISO_8859_1), SJIS, true);
    }

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public boolean fastPathMigrationScript() {
        return analyzer.mayContainRpcCall(migration);
    }

    /** Full split and classification of 100 KB (too large for the cache, so analysed every time). */
    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int analyzeMigrationScript() {
        return analyzer.analyze(migration, true).statements().size();
    }
}
