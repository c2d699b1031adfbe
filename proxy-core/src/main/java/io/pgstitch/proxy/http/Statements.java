package io.pgstitch.proxy.http;

import io.pgstitch.sqlsplit.QueryAnalyzer;
import io.pgstitch.sqlsplit.RpcFunctionMatcher;
import io.pgstitch.sqlsplit.SqlStatement;

import java.util.ArrayList;
import java.util.List;

/**
 * The statements of a request's text where PostgreSQL (and the proxy's own splitting) sees them, from sql-split:
 * each CommandComplete or ErrorResponse of the one Query ends the next of them. Offsets are UTF-16 char indexes
 * of the text, as a JavaScript string counts.
 */
final class Statements {

    /** One statement's place: {@code text.substring(start, end)} is it, its {@code ;} included. */
    record Span(int start, int end) {
    }

    /** No RPC patterns and no cache: only the split is wanted here; the session does its own analysis. */
    private static final QueryAnalyzer SPLITTER = new QueryAnalyzer(new RpcFunctionMatcher(List.of()), 0);

    private Statements() {
    }

    static List<Span> of(String sql, boolean standardConformingStrings) {
        List<Span> spans = new ArrayList<>();
        for (SqlStatement statement : SPLITTER.analyze(sql, standardConformingStrings).statements()) {
            spans.add(new Span(statement.start(), statement.end()));
        }
        return spans;
    }
}
