package io.pgstitch.sqlsplit;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Properties over generated input (seeded, so a failure names its seed and can be replayed): spans lie in
 * order inside the text without overlap, nothing but whitespace and comments falls between them, and no input
 * makes the lexer, splitter or analyzer throw.
 */
class SplitterPropertiesTest {

    private static final List<String> FRAGMENTS = List.of("select", " ", "\n", "1", ";", "'", "''", "\"", "$$",
            "$a$", "$1", "--", "/*", "*/", "(", ")", "E'", "\\", "U&'", "iasql_apply", "()", ".", "begin",
            "atomic", "end", "case", "create", "function", "or replace", "procedure", "x", "é", "😀", "\t", ",",
            "B'", "::", "-", "/", "*", "$", "e'\\''", "with", "insert", "into");

    private final QueryAnalyzer analyzer = new QueryAnalyzer(new RpcFunctionMatcher(List.of("iasql_*")), 16);

    private static String sqlLike(Random random) {
        StringBuilder sql = new StringBuilder();
        int parts = random.nextInt(40);
        for (int i = 0; i < parts; i++) {
            sql.append(FRAGMENTS.get(random.nextInt(FRAGMENTS.size())));
        }
        return sql.toString();
    }

    private static String randomChars(Random random) {
        char[] chars = new char[random.nextInt(200)];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = random.nextInt(4) == 0 ? (char) random.nextInt(0x10000) : (char) (0x20 + random.nextInt(0x60));
        }
        return new String(chars);
    }

    @RepeatedTest(2000)
    void sqlLikeInput(RepetitionInfo repetition) {
        long seed = 0x5eed_0000L + repetition.getCurrentRepetition();
        checkProperties(sqlLike(new Random(seed)), seed);
    }

    @RepeatedTest(500)
    void randomCharacters(RepetitionInfo repetition) {
        long seed = 0xf022_0000L + repetition.getCurrentRepetition();
        checkProperties(randomChars(new Random(seed)), seed);
    }

    @Test
    void randomBytesDecodedAsUtf8() {
        Random random = new Random(42);
        for (int i = 0; i < 2000; i++) {
            byte[] bytes = new byte[random.nextInt(300)];
            random.nextBytes(bytes);
            checkProperties(new String(bytes, java.nio.charset.StandardCharsets.UTF_8), i);
        }
    }

    private void checkProperties(String sql, long seed) {
        for (boolean scs : new boolean[] {true, false}) {
            QueryAnalysis analysis = analyzer.analyze(sql, scs);
            int previousEnd = 0;
            for (SqlStatement statement : analysis.statements()) {
                assertThat(statement.start()).as("seed %d: %s", seed, sql).isGreaterThanOrEqualTo(previousEnd);
                assertThat(statement.end()).as("seed %d", seed).isGreaterThan(statement.start())
                        .isLessThanOrEqualTo(sql.length());
                assertThat(onlyWhitespaceAndComments(sql.substring(previousEnd, statement.start()), scs))
                        .as("seed %d: nothing but whitespace, comments or empty statements between spans", seed)
                        .isTrue();
                previousEnd = statement.end();
            }
            assertThat(onlyWhitespaceAndComments(sql.substring(previousEnd), scs))
                    .as("seed %d: nothing is lost after the last statement", seed).isTrue();
            analyzer.mayContainRpcCall(sql, scs);
        }
    }

    /** Whether a gap holds no token other than semicolons (i.e. only empty statements). */
    private static boolean onlyWhitespaceAndComments(String gap, boolean scs) {
        boolean[] clean = {true};
        SqlLexer.scan(gap, scs, (type, start, end) -> {
            if (type != SqlLexer.TokenType.SEMICOLON) {
                clean[0] = false;
            }
            return clean[0];
        });
        return clean[0];
    }
}
