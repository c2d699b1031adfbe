package io.pgstitch.sqlsplit;

import java.io.PrintStream;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The engine of {@code pgstitch explain-split}: prints each statement with its span, kind and RPC calls, then
 * the segments the proxy would run. With JSON, one object per statement per line:
 * {@code {"start": 0, "end": 21, "kind": "select", "rpc": ["iasql_apply"]}} (end exclusive, UTF-16 offsets).
 */
public final class ExplainSplit {

    private ExplainSplit() {
    }

    public static void explain(String sql, List<String> functionPatterns, boolean json, PrintStream out) {
        explain(sql, functionPatterns, SplitMode.RPC_ONLY, true, json, out);
    }

    public static void explain(String sql, List<String> functionPatterns, SplitMode mode,
                               boolean standardConformingStrings, boolean json, PrintStream out) {
        QueryAnalyzer analyzer = new QueryAnalyzer(new RpcFunctionMatcher(functionPatterns), 1);
        QueryAnalysis analysis = analyzer.analyze(sql, standardConformingStrings);
        if (json) {
            for (SqlStatement statement : analysis.statements()) {
                out.printf("{\"start\": %d, \"end\": %d, \"kind\": \"%s\", \"rpc\": [%s]}%n", statement.start(),
                        statement.end(), statement.kind().jsonName(), statement.rpcCalls().stream()
                                .map(ExplainSplit::jsonString).collect(Collectors.joining(", ")));
            }
            return;
        }
        if (analysis.statements().isEmpty()) {
            out.println("no statements (PostgreSQL answers EmptyQueryResponse)");
            return;
        }
        int number = 1;
        for (SqlStatement statement : analysis.statements()) {
            out.printf("statement %d  [%d, %d)  %s%s%n", number++, statement.start(), statement.end(),
                    statement.kind().jsonName(), statement.hasRpcCall()
                            ? "  rpc: " + String.join(", ", statement.rpcCalls()) : "");
            out.println("    " + oneLine(statement.text(sql)));
        }
        out.printf("%nsegments (split: %s):%n", mode.name().toLowerCase().replace('_', '-'));
        number = 1;
        for (Segment segment : analysis.segments(mode)) {
            int first = analysis.statements().indexOf(segment.statements().get(0)) + 1;
            int last = first + segment.statements().size() - 1;
            out.printf("  %d  [%d, %d)  %-18s statement%s %s%n", number++, segment.start(), segment.end(),
                    segment.rpc() ? "RPC connection" : "session backend", first == last ? "" : "s",
                    first == last ? Integer.toString(first) : first + "-" + last);
        }
    }

    private static String oneLine(String text) {
        String flat = text.replaceAll("\\s+", " ").strip();
        return flat.length() > 100 ? flat.substring(0, 97) + "..." : flat;
    }

    static String jsonString(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
