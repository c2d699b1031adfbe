package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.pgstitch.protocol.PgException;

import java.util.List;

/**
 * One segment of a stitched request: complete protocol messages (each a buffer this step owns until it is sent)
 * that run together on one connection.
 */
public sealed interface StitchStep {

    List<ByteBuf> messages();

    default void release() {
        messages().forEach(ReferenceCountUtil::safeRelease);
    }

    /**
     * Not run: the steps after it come from the part of the client's Query that starts after {@code characters}
     * characters, so the position of an error they answer is that many characters further on in the client's text.
     */
    record At(int characters) implements StitchStep {
        @Override
        public List<ByteBuf> messages() {
            return List.of();
        }
    }

    /**
     * Runs on the client's session backend; its messages end with a ReadyForQuery (a Query, or a Sync the proxy
     * added).
     *
     * @param evenAfterError it must run even when the request has already failed: the Sync that ends messages
     *                       forwarded before the batch was held, without which the backend would go on
     *                       skipping the client's next messages
     * @param whenSucceeded  run when the step is answered without an error (a PREPARE of an RPC call is then
     *                       remembered, a DEALLOCATE forgets it); null when there is nothing to do
     * @param transactionControl its messages are the Parse, Bind, Describe and Execute of a SAVEPOINT, RELEASE,
     *                       ROLLBACK TO or COMMIT the kept connection follows: their ParseComplete and
     *                       BindComplete take no snapshot (PostgreSQL takes none for transaction control), so they
     *                       leave a block fresh ({@link TransactionWatch})
     */
    record OnSession(List<ByteBuf> messages, boolean evenAfterError, Runnable whenSucceeded,
                     boolean transactionControl) implements StitchStep {

        OnSession(List<ByteBuf> messages) {
            this(messages, false, null);
        }

        OnSession(List<ByteBuf> messages, boolean evenAfterError) {
            this(messages, evenAfterError, null);
        }

        OnSession(List<ByteBuf> messages, boolean evenAfterError, Runnable whenSucceeded) {
            this(messages, evenAfterError, whenSucceeded, false);
        }
    }

    /**
     * Runs on an RPC connection: a new one from the pool, in autocommit, or the one the session keeps (see
     * {@link KeptConnection}). Its messages have no terminator yet: the proxy ends them with a Sync, or with a
     * Flush when the kept connection's implicit transaction must outlive the step.
     *
     * @param function       the RPC function called, named in errors
     * @param injectedParses how many Parse messages at the start the proxy replays for statements the client
     *                       prepared earlier: their ParseComplete is not the client's to see
     * @param injectedCloses how many Close messages at the end the proxy adds so that the client's statement
     *                       does not stay on the pooled connection: their CloseComplete is not the client's either
     * @param preamble       Queries run first on the connection, whose answers only reach the client if they fail:
     *                       the PREPARE of an SQL-level prepared RPC call that the step EXECUTEs
     * @param lifetime       what the step leaves on the connection, and what of it it goes on with
     */
    record OnRpc(String function, List<ByteBuf> messages, int injectedParses, int injectedCloses,
                 List<ByteBuf> preamble, Lifetime lifetime) implements StitchStep {

        OnRpc(String function, List<ByteBuf> messages, int injectedParses, int injectedCloses) {
            this(function, messages, injectedParses, injectedCloses, List.of(), Lifetime.CALL);
        }

        @Override
        public void release() {
            StitchStep.super.release();
            preamble.forEach(ReferenceCountUtil::safeRelease);
        }
    }

    /**
     * What an RPC step leaves on its connection beyond its own answer.
     *
     * @param continues a cursor or portal that lives on the kept connection and that the step goes on with (FETCH,
     *                  MOVE or CLOSE of a cursor; Execute, Describe or Close of a portal), or null for a new call
     * @param declares  the cursor the step declares, or null
     * @param closes    the cursor or portal the step closes, or null
     * @param portals   the portals the step binds
     * @param executes  whether it runs anything (an Execute or a Query), which is what rpc.in_transaction is about
     * @param limited   it has an Execute with a row limit: its portal may be read on after the Sync, in a block
     * @param flushed   it runs at a client's Flush: its portals may be read before the client's Sync
     */
    record Lifetime(String continues, String declares, String closes, List<String> portals, boolean executes,
                    boolean limited, boolean flushed) {

        /** A call that leaves nothing behind. */
        static final Lifetime CALL = new Lifetime(null, null, null, List.of(), true, false, false);

        public Lifetime {
            portals = List.copyOf(portals);
        }

        /** Whether the step must run on the connection the session keeps (given whether the session is in a block). */
        boolean keeps(boolean inBlock) {
            return declares != null || flushed && !portals.isEmpty() || inBlock && limited;
        }
    }

    /**
     * What the kept connection does to follow the session's transaction block (see {@link KeptConnection}),
     * when it holds a block: SAVEPOINT, RELEASE and ROLLBACK TO after the session ran them, CLOSE ALL after the
     * session's, COMMIT before the session's, so that a COMMIT failing there fails for the client as PostgreSQL's
     * would; sent as a Query or with Parse/Bind/Execute alike. Its answers are not the client's, but an error.
     * Nothing to do when no connection is kept.
     *
     * @param savepoint the savepoint the session's statement names (as PostgreSQL resolves it), or null
     */
    record OnKept(Follows follows, String savepoint) implements StitchStep {

        /** The session's statement the kept connection follows. */
        enum Follows { SAVEPOINT, RELEASE, ROLLBACK_TO, CLOSE_ALL, COMMIT }

        @Override
        public List<ByteBuf> messages() {
            return List.of();
        }
    }

    /**
     * An RPC statement pgstitch refuses: its effect would stay on the RPC connection and be lost to the session.
     * It fails as PostgreSQL fails a statement; in an aborted transaction {@code messages} (the statement) go to
     * the session backend, which answers as PostgreSQL does there.
     */
    record Refused(String function, PgException error, List<ByteBuf> messages) implements StitchStep {
    }
}
