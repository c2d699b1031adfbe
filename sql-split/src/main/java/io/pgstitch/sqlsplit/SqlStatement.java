package io.pgstitch.sqlsplit;

import java.util.List;

/**
 * One statement of a query text.
 *
 * @param start       offset of its first character (leading comments included): a byte offset when the text
 *                    was the client's bytes, a UTF-16 char index when it was a Java string
 * @param end         offset just after it, exclusive; includes the terminating {@code ;} when there is one
 * @param kind        what it does
 * @param transaction for {@link StatementKind#TRANSACTION_CONTROL}, which command; null otherwise
 * @param rpcCalls    the RPC functions it calls, as written (unquoted names lower-cased), in order
 */
public record SqlStatement(int start, int end, StatementKind kind, TransactionCommand transaction,
                           List<String> rpcCalls) {

    public SqlStatement {
        rpcCalls = List.copyOf(rpcCalls);
    }

    public String text(String sql) {
        return sql.substring(start, end);
    }

    public boolean hasRpcCall() {
        return !rpcCalls.isEmpty();
    }
}
