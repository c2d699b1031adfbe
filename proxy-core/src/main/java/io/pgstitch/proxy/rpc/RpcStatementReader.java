package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.pgstitch.protocol.frontend.Parse;
import io.pgstitch.proxy.rpc.BatchPlanner.RpcStatement;
import io.pgstitch.sqlsplit.ClientEncoding;
import io.pgstitch.sqlsplit.SqlStatement;
import io.pgstitch.sqlsplit.StatementKind;

import java.util.List;

/**
 * Reads what a client's Parse prepares when it concerns an RPC connection ({@link RpcStatement}), knowing what the
 * session's earlier statements left behind: its SQL-level prepared RPC calls and the cursors on its
 * {@link KeptConnection}. Apart from {@link RpcRouter}, which decides where the statement's messages go. Session
 * loop only.
 */
final class RpcStatementReader {

    private final RpcSettings settings;
    private final KeptConnection kept;
    private final QueryPlanner queries;

    RpcStatementReader(RpcSettings settings, KeptConnection kept, QueryPlanner queries) {
        this.settings = settings;
        this.kept = kept;
        this.queries = queries;
    }

    /**
     * What a Parse prepares when it concerns an RPC connection: a statement calling an RPC function, or an EXECUTE
     * of an SQL-level prepared RPC call; null otherwise. The query is the client's bytes, one char per byte.
     *
     * @param content  the Parse frame's content, whose first message is the Parse
     * @param encoding the session's, or null when pgstitch does not know it
     */
    RpcStatement read(Parse parse, ByteBuf content, ClientEncoding encoding, boolean standardConformingStrings) {
        String bytes = parse.query();
        if (encoding == null || !queries.remembersPrepared() && !kept.hasNames()
                && !settings.analyzer().mayContainRpcCall(bytes, encoding, standardConformingStrings)) {
            return null;
        }
        List<SqlStatement> statements = settings.analyzer().analyze(bytes, encoding, standardConformingStrings)
                .statements();
        SqlStatement call = statements.stream().filter(SqlStatement::hasRpcCall).findFirst().orElse(null);
        if (call != null && call.kind() == StatementKind.PREPARE) { // see RpcRouter.route: no parse message to replay
            return new RpcStatement(call.name(), null, firstCall(statements), bytes, null, null, null, false);
        }
        if (call != null) {
            return new RpcStatement(parse.statement(), firstMessage(content), firstCall(statements), null,
                    call.kind() == StatementKind.DECLARE ? call.name() : null, call.sessionEffect(), null, false);
        }
        SqlStatement only = statements.size() == 1 ? statements.get(0) : null;
        QueryPlanner.PreparedCall prepare = only == null || only.executes() == null ? null
                : queries.prepared(only.executes());
        if (prepare != null) { // EXECUTE of a prepared RPC call, also under EXPLAIN or CREATE TABLE AS
            return new RpcStatement(parse.statement(), firstMessage(content), prepare.function(),
                    prepare.prepareText(), null, only.sessionEffect(), null, false);
        }
        boolean cursorStep = only != null && only.name() != null
                && (only.kind() == StatementKind.FETCH || only.kind() == StatementKind.CLOSE);
        String function = cursorStep ? kept.function(only.name()) : null;
        // a FETCH, MOVE or CLOSE of a cursor that lives on the kept connection goes there, as in a Query
        return function == null ? null : new RpcStatement(parse.statement(), firstMessage(content), function,
                null, null, null, only.name(), only.kind() == StatementKind.CLOSE);
    }

    /** The RPC function the first of {@code statements} that calls one calls. */
    static String firstCall(List<SqlStatement> statements) {
        return statements.stream().flatMap(statement -> statement.rpcCalls().stream()).findFirst().orElseThrow();
    }

    /** A copy of the first message of {@code content} (a Parse frame), to replay later. */
    private static byte[] firstMessage(ByteBuf content) {
        return ByteBufUtil.getBytes(content, content.readerIndex(), 1 + content.getInt(content.readerIndex() + 1));
    }
}
