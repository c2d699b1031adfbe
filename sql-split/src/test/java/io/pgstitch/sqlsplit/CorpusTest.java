package io.pgstitch.sqlsplit;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The statement corpus (src/test/resources/corpus/lexical.txt): every case asserts each statement's exact text
 * (and so its span), kind and RPC calls. Pairs of single-statement cases are also run glued together with
 * different separators, which must split back into the two originals.
 */
class CorpusTest {

    static final List<String> PATTERNS = List.of("iasql_*", "audit.rpc_?", "\"Quoted_*\"");
    private static final QueryAnalyzer ANALYZER = new QueryAnalyzer(new RpcFunctionMatcher(PATTERNS), 100);

    record Expected(String kind, List<String> rpc, String text) {
    }

    record Case(String name, String sql, boolean standardConformingStrings, List<Expected> statements) {
    }

    static List<Case> cases() throws IOException {
        String corpus;
        try (InputStream in = CorpusTest.class.getResourceAsStream("/corpus/lexical.txt")) {
            corpus = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<Case> cases = new ArrayList<>();
        for (String block : corpus.split("\n== ")) {
            if (block.startsWith("#")) {
                continue;
            }
            int nameEnd = block.indexOf('\n');
            String name = block.substring(0, nameEnd).strip();
            int expect = block.indexOf("\n-- expect\n", nameEnd);
            if (expect < 0) {
                expect = block.indexOf("\n-- expect", nameEnd);
            }
            String sql = block.substring(nameEnd + 1, expect);
            List<Expected> statements = new ArrayList<>();
            for (String line : block.substring(Math.min(block.length(), expect + "\n-- expect\n".length())).split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.split("\\|", 3);
                statements.add(new Expected(parts[0], parts[1].isEmpty() ? List.of() : List.of(parts[1].split(",")),
                        unescape(parts[2])));
            }
            cases.add(new Case(name, sql, !name.endsWith("[scs=off]"), statements));
        }
        return cases;
    }

    private static String unescape(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                char next = text.charAt(++i);
                out.append(next == 'n' ? '\n' : next);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    static void check(Case c) {
        QueryAnalysis analysis = ANALYZER.analyze(c.sql(), c.standardConformingStrings());
        List<Expected> actual = analysis.statements().stream()
                .map(s -> new Expected(s.kind().jsonName(), s.rpcCalls(), s.text(c.sql()))).toList();
        assertThat(actual).as(c.name()).isEqualTo(c.statements());
        int previousEnd = 0;
        for (SqlStatement statement : analysis.statements()) {
            assertThat(statement.start()).as("%s: spans in order, no overlap", c.name()).isGreaterThanOrEqualTo(previousEnd);
            previousEnd = statement.end();
        }
        boolean expectsRpc = c.statements().stream().anyMatch(s -> !s.rpc().isEmpty());
        if (expectsRpc) {
            assertThat(ANALYZER.mayContainRpcCall(c.sql(), c.standardConformingStrings()))
                    .as("%s: the fast path must not miss a call", c.name()).isTrue();
        }
    }

    @TestFactory
    Stream<DynamicTest> corpus() throws IOException {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    /** Single-statement cases ending in ';' glued pairwise: "a; b" must split into exactly a and b. */
    @TestFactory
    Stream<DynamicTest> gluedPairs() throws IOException {
        List<Case> singles = cases().stream()
                .filter(c -> c.standardConformingStrings() && c.statements().size() == 1
                        && c.sql().strip().equals(c.statements().get(0).text()) && c.sql().strip().endsWith(";"))
                .toList();
        String[] separators = {" ", "\n", "\n-- between\n", " /* between; */ "};
        List<DynamicTest> tests = new ArrayList<>();
        for (int n = 0; n < 2 * singles.size(); n++) {
            int i = n % singles.size();
            Case first = singles.get(i);
            Case second = singles.get((n < singles.size() ? i * 7 + 3 : i * 13 + 5) % singles.size());
            String separator = separators[n % separators.length];
            String sql = first.statements().get(0).text() + separator + second.statements().get(0).text();
            Expected secondExpected = second.statements().get(0);
            String secondText = separator.isBlank() ? secondExpected.text()
                    : separator.strip() + (separator.endsWith("\n") ? "\n" : " ") + secondExpected.text();
            Case glued = new Case(first.name() + " + " + second.name(), sql, true,
                    List.of(first.statements().get(0), new Expected(secondExpected.kind(), secondExpected.rpc(),
                            secondText)));
            tests.add(DynamicTest.dynamicTest(glued.name(), () -> check(glued)));
        }
        return tests.stream();
    }

    @Test
    void theCorpusIsLargeEnough() throws IOException {
        assertThat(cases()).hasSizeGreaterThanOrEqualTo(160);
    }
}
