package io.pgstitch.proxy.frontend;

import io.netty.buffer.ByteBufAllocator;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.OversizedMessage;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.proxy.rpc.StitchedRequest;

/**
 * {@code listen.max_message_size} as a session applies it: the longest message pgstitch reads whole. Messages it
 * only relays (DataRow, CopyData, and Query and the rest when no RPC function is configured) stream through at any
 * size PostgreSQL allows; this limit only bounds what the proxy must buffer to read.
 */
final class MessageSizeLimit {

    static final String SETTING = "listen.max_message_size";

    private MessageSizeLimit() {
    }

    /**
     * The answer to a client message too long to read whole (its bytes are already discarded). A Query or a
     * FunctionCall becomes a Query that makes the backend raise ERROR 54000, so that the client gets the error and
     * its ReadyForQuery in order, and a transaction block is aborted as by any failed statement; the session goes
     * on. A Parse or Bind sits in an extended-protocol batch where no answer can be put in its place: FATAL.
     *
     * @return the frame to relay instead of the message
     * @throws PgException FATAL 54000 for a message that cannot be answered in place
     */
    static Frame refusal(OversizedMessage message, ByteBufAllocator alloc) {
        String name = message.name();
        String text = name + " message of " + message.length() + " bytes exceeds " + SETTING + " ("
                + message.limit() + " bytes)";
        String hint = "pgstitch reads Query, Parse, Bind and FunctionCall messages whole to find calls of RPC"
                + " functions (rpc.functions). Raise " + SETTING + ", or send bulk data with COPY FROM STDIN,"
                + " which is relayed as it arrives.";
        if (message.type() == Query.TYPE || message.type() == 'F') {
            PgException error = PgException.error(SqlState.PROGRAM_LIMIT_EXCEEDED, text).withHint(hint);
            return new Frame(new Query(StitchedRequest.raise(error)).encode(alloc));
        }
        throw PgException.fatal(SqlState.PROGRAM_LIMIT_EXCEEDED, text).withHint(hint);
    }

    /** A shard's message too long to read whole, as the client's FATAL naming the shard. */
    static PgException fromShard(String shard, PgException cause) {
        return PgException.fatal(SqlState.PROGRAM_LIMIT_EXCEEDED, shard + " sent a message longer than " + SETTING
                + " allows: " + cause.getMessage());
    }
}
