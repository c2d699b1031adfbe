package io.pgstitch.proxy.frontend;

import io.netty.handler.codec.DecoderException;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

/** What a client is told when it gets no backend, or its backend ends or fails without a FATAL of its own. */
final class ShardFailure {

    private ShardFailure() {
    }

    /** The shard closed the connection. */
    static PgException closed(String describe) {
        return PgException.fatal(SqlState.CONNECTION_FAILURE, "server connection to " + describe
                + " closed unexpectedly");
    }

    /** The connection failed: the shard broke the protocol, sent a message over the limit, or I/O failed. */
    static PgException failed(String describe, Throwable cause) {
        Throwable root = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        String sqlState = root instanceof PgException pg ? pg.sqlState() : null;
        if (SqlState.PROTOCOL_VIOLATION.equals(sqlState)) {
            return PgException.fatal(SqlState.PROTOCOL_VIOLATION, describe + " broke the protocol: "
                    + root.getMessage());
        }
        if (SqlState.PROGRAM_LIMIT_EXCEEDED.equals(sqlState)) {
            return MessageSizeLimit.fromShard(describe, (PgException) root);
        }
        return PgException.fatal(SqlState.CONNECTION_FAILURE, "server connection to " + describe + " failed: "
                + root.getMessage());
    }

    /** No backend could be had for the client (a pool exhausted, a shard that refused the login, ...). */
    static PgException noBackend(Throwable cause) {
        return cause instanceof PgException pg ? pg
                : PgException.fatal(SqlState.CONNECTION_FAILURE, String.valueOf(cause.getMessage()));
    }
}
