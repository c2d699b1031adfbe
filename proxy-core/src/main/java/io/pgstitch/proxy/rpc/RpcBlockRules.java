package io.pgstitch.proxy.rpc;

import io.pgstitch.conf.RpcInTransaction;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;

/**
 * What the session's transaction block means for an RPC step of a {@link StitchedRequest}, decided as PostgreSQL
 * would. Before the step, the session's transaction status decides: in an aborted block the step goes to the
 * session backend, which refuses it with 25P02; in a block in which nothing but its BEGIN has run
 * ({@link TransactionWatch}) a call runs on its RPC connection, the session's snapshot being taken only by its next
 * statement; in any other block {@code rpc.in_transaction} decides ({@code reject}: 25001, raised by the session
 * backend so that the block is aborted as by any error). An RPC call that fails while the session is in a block
 * aborts the session's block too ({@link #blockAborted}). Apart from the request so that these rules read on their
 * own.
 */
final class RpcBlockRules {

    /** Whether an RPC step runs. */
    enum Verdict {
        /** The session backend answers the step's messages, as PostgreSQL would refuse them. */
        ON_SESSION,
        /** {@code rpc.in_transaction: reject}: the request fails with {@link #rejection}. */
        REJECTED,
        /** The step runs on its RPC connection. */
        RUNS
    }

    private static final String IN_FAILED_SQL_TRANSACTION = "25P02";

    private RpcBlockRules() {
    }

    /** Whether {@code step} runs, the session's transaction status being {@code status}. */
    static Verdict verdict(StitchStep.OnRpc step, TransactionStatus status, KeptConnection kept,
                           TransactionWatch watch, RpcInTransaction inTransaction) {
        StitchStep.Lifetime lifetime = step.lifetime();
        if (status == TransactionStatus.FAILED // PostgreSQL refuses every statement there: 25P02
                || lifetime.continues() != null && kept.function(lifetime.continues()) == null) {
            // (or its cursor or portal is gone, its block ended: the session backend says so as PostgreSQL would)
            return Verdict.ON_SESSION;
        }
        boolean inBlock = status == TransactionStatus.IN_TRANSACTION;
        if (lifetime.continues() == null && lifetime.executes() && inBlock && !watch.fresh()
                && inTransaction == RpcInTransaction.REJECT) {
            return Verdict.REJECTED;
        }
        return Verdict.RUNS;
    }

    /** Why a call of {@code function} does not run in the session's block ({@code rpc.in_transaction: reject}). */
    static PgException rejection(String function) {
        return PgException.error(SqlState.ACTIVE_SQL_TRANSACTION, "RPC function " + function
                        + " cannot run inside a transaction block")
                .withHint("pgstitch runs it on a separate connection, which can neither see this transaction's"
                        + " uncommitted work nor wait for its locks. COMMIT or ROLLBACK first, or make the call"
                        + " the first statement of the block (or set rpc.in_transaction: isolate).");
    }

    /** What the session backend raises, swallowed, to abort its block after an RPC call of the block failed. */
    static PgException blockAborted() {
        return PgException.error(IN_FAILED_SQL_TRANSACTION, "pgstitch: an RPC call of this transaction block"
                + " failed").withHint("The block is aborted as PostgreSQL aborts it.");
    }
}
