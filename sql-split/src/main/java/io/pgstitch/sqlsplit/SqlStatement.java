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
 * @param name        the cursor a DECLARE, FETCH, MOVE or CLOSE names, or the prepared statement a PREPARE,
 *                    EXECUTE or DEALLOCATE names, or the savepoint a SAVEPOINT, RELEASE or ROLLBACK TO names, as
 *                    PostgreSQL resolves it (unquoted lower-cased); what a DISCARD discards ({@code all},
 *                    {@code plans}, ...); the parameter a SET or RESET names, lower-cased ({@code all} for RESET
 *                    ALL, {@code app.tenant} for a placeholder); null for {@code CLOSE ALL}, {@code DEALLOCATE ALL}
 *                    and every other kind
 * @param sessionEffect what the statement leaves in the session besides its result, when that is something
 *                    a statement run on another connection would lose, as a phrase ("creates a temporary table",
 *                    "declares a cursor WITH HOLD", "calls set_config"); null otherwise
 * @param executes    the SQL-level prepared statement the statement runs, as PostgreSQL resolves its name:
 *                    {@code EXECUTE q}, {@code EXPLAIN [options] EXECUTE q}, {@code CREATE TABLE t AS EXECUTE q};
 *                    null otherwise
 */
public record SqlStatement(int start, int end, StatementKind kind, TransactionCommand transaction,
                           List<String> rpcCalls, String name, String sessionEffect, String executes) {

    public SqlStatement {
        rpcCalls = List.copyOf(rpcCalls);
    }

    public SqlStatement(int start, int end, StatementKind kind, TransactionCommand transaction,
                        List<String> rpcCalls) {
        this(start, end, kind, transaction, rpcCalls, null, null, null);
    }

    public String text(String sql) {
        return sql.substring(start, end);
    }

    public boolean hasRpcCall() {
        return !rpcCalls.isEmpty();
    }
}
