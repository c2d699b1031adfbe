package io.pgstitch.sqlsplit;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** The statements of one query text; no statements means PostgreSQL answers EmptyQueryResponse. */
public record QueryAnalysis(List<SqlStatement> statements) {

    public QueryAnalysis {
        statements = List.copyOf(statements);
    }

    public boolean hasRpcCall() {
        return statements.stream().anyMatch(SqlStatement::hasRpcCall);
    }

    public List<Segment> segments(SplitMode mode) {
        return segments(mode, SqlStatement::hasRpcCall);
    }

    /**
     * The segments when the statements {@code apart} accepts (RPC calls, and whatever else the caller runs
     * elsewhere) each make a segment of their own, marked {@link Segment#rpc()}.
     */
    public List<Segment> segments(SplitMode mode, Predicate<SqlStatement> apart) {
        List<Segment> segments = new ArrayList<>();
        if (statements.isEmpty()) {
            return segments;
        }
        if (mode == SplitMode.NEVER) {
            segments.add(segment(statements, statements.stream().anyMatch(apart)));
            return segments;
        }
        List<SqlStatement> run = new ArrayList<>();
        for (SqlStatement statement : statements) {
            boolean elsewhere = apart.test(statement);
            if (mode == SplitMode.ALWAYS || elsewhere) {
                if (!run.isEmpty()) {
                    segments.add(segment(run, false));
                    run = new ArrayList<>();
                }
                segments.add(segment(List.of(statement), elsewhere));
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
