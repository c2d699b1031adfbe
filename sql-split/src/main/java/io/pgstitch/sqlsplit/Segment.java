package io.pgstitch.sqlsplit;

import java.util.List;

/**
 * Consecutive statements that run as one Query: {@code sql.substring(start, end)} is a valid query text (the
 * statements with whatever stood between them, each ending with its own {@code ;} when it had one). When the
 * analysed text was the client's bytes, it is a slice of them, to be sent as it is.
 *
 * @param rpc whether it holds an RPC call, i.e. runs on an RPC connection
 */
public record Segment(int start, int end, boolean rpc, List<SqlStatement> statements) {

    public Segment {
        statements = List.copyOf(statements);
    }

    public String text(String sql) {
        return sql.substring(start, end);
    }
}
