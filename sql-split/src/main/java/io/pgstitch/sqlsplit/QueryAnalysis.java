package io.pgstitch.sqlsplit;

import java.util.ArrayList;
import java.util.List;

/** The statements of one query text; no statements means PostgreSQL answers EmptyQueryResponse. */
public record QueryAnalysis(List<SqlStatement> statements) {

    public QueryAnalysis {
        statements = List.copyOf(statements);
    }

    public boolean hasRpcCall() {
        return statements.stream().anyMatch(SqlStatement::hasRpcCall);
    }

    public List<Segment> segments(SplitMode mode) {
        List<Segment> segments = new ArrayList<>();
        if (statements.isEmpty()) {
            return segments;
        }
        if (mode == SplitMode.NEVER) {
            segments.add(segment(statements, hasRpcCall()));
            return segments;
        }
        List<SqlStatement> run = new ArrayList<>();
        for (SqlStatement statement : statements) {
            if (mode == SplitMode.ALWAYS || statement.hasRpcCall()) {
                if (!run.isEmpty()) {
                    segments.add(segment(run, false));
                    run = new ArrayList<>();
                }
                segments.add(segment(List.of(statement), statement.hasRpcCall()));
            } else {
                run.add(statement);
            }
        }
        if (!run.isEmpty()) {
            segments.add(segment(run, false));
        }
        return segments;
    }

    private static Segment segment(List<SqlStatement> statements, boolean rpc) {
        return new Segment(statements.get(0).start(), statements.get(statements.size() - 1).end(), rpc, statements);
    }
}
