package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.backend.ReadyForQuery;

import java.nio.charset.StandardCharsets;

/**
 * What the session backend's answers say about its transaction block: whether it has only just begun, i.e.
 * nothing but {@code BEGIN}/{@code START TRANSACTION} (and SAVEPOINT or RELEASE, which take no snapshot either)
 * has run in it, and how many blocks have ended. Fed every
 * answer the session backend gives to the client's own requests and to stitched session steps, never the
 * proxy's internal queries. Session loop only.
 *
 * <p>Why answers and not the client's messages: a driver's {@code BEGIN} comes as a Query (psycopg2, asyncpg,
 * psql) or as Parse/Bind/Execute in the same batch as the statement after it (PgJDBC), and only the answers tell
 * whether it ran and whether a block was open before. PostgreSQL takes a block's snapshot at its first statement
 * that needs one (a Parse or Bind of a planned statement included), so a block whose answers since its BEGIN are
 * none has seen nothing yet: an RPC call run elsewhere at that point is, for the session, as if it had run just
 * before the BEGIN.
 *
 * <ul>
 *   <li>ReadyForQuery {@code I}: no block.</li>
 *   <li>CommandComplete {@code BEGIN} or {@code START TRANSACTION} with nothing run since the last
 *       {@code I}: a block begins, fresh.</li>
 *   <li>CommandComplete {@code COMMIT}, {@code ROLLBACK} (also ROLLBACK TO SAVEPOINT, whose tag is the same) or
 *       {@code PREPARE TRANSACTION}: a block ended.</li>
 *   <li>CommandComplete {@code SAVEPOINT} or {@code RELEASE}: nothing changes (no snapshot is taken).</li>
 *   <li>Any other CommandComplete, a PortalSuspended, and ParseComplete or BindComplete inside a block: work
 *       was done, the block is no longer fresh.</li>
 * </ul>
 */
final class TransactionWatch {

    private static final byte[] BEGIN = tag("BEGIN");
    private static final byte[] START_TRANSACTION = tag("START TRANSACTION");
    private static final byte[] COMMIT = tag("COMMIT");
    private static final byte[] ROLLBACK = tag("ROLLBACK");
    private static final byte[] PREPARE_TRANSACTION = tag("PREPARE TRANSACTION");
    private static final byte[] SAVEPOINT = tag("SAVEPOINT");
    private static final byte[] RELEASE = tag("RELEASE");

    /** A BEGIN completed since the last ReadyForQuery {@code I} with nothing run before it. */
    private boolean begun;
    /** Something other than BEGIN ran since the last ReadyForQuery {@code I} or the last block end. */
    private boolean work;
    private long blockEnds;
    private boolean lastEndCommitted;

    /** Takes note of one frame of the session backend's answer; borrows it. */
    void observe(Frame frame) {
        if (!frame.isComplete()) {
            return; // a piece of a large relayed message (a row): nothing here to note
        }
        switch (frame.type()) {
            case ReadyForQuery.TYPE -> {
                ByteBuf body = frame.body();
                if (body.isReadable() && body.getByte(body.readerIndex()) == 'I') {
                    begun = false;
                    work = false;
                }
            }
            case 'C' -> commandComplete(frame.body());
            case '1', '2' -> work |= begun; // a Parse or Bind inside the block may take its snapshot
            case 's' -> work = true;
            default -> {
            }
        }
    }

    private void commandComplete(ByteBuf body) {
        if (is(body, BEGIN) || is(body, START_TRANSACTION)) {
            begun |= !work;
        } else if (is(body, COMMIT) || is(body, ROLLBACK) || is(body, PREPARE_TRANSACTION)) {
            blockEnds++;
            lastEndCommitted = is(body, COMMIT);
            begun = false;
            work = false;
        } else if (!is(body, SAVEPOINT) && !is(body, RELEASE)) {
            work = true;
        }
    }

    /** Whether the session is in a block in which nothing has run but its BEGIN (valid while its status is T). */
    boolean fresh() {
        return begun && !work;
    }

    /** How many transaction blocks the session has ended (committed, rolled back or prepared) so far. */
    long blockEnds() {
        return blockEnds;
    }

    /** Whether the last block that ended was committed (its tag was COMMIT; a failed block's COMMIT says ROLLBACK). */
    boolean lastEndCommitted() {
        return lastEndCommitted;
    }

    private static boolean is(ByteBuf body, byte[] tag) {
        if (body.readableBytes() != tag.length) {
            return false;
        }
        int start = body.readerIndex();
        for (int i = 0; i < tag.length; i++) {
            if (body.getByte(start + i) != tag[i]) {
                return false;
            }
        }
        return true;
    }

    /** A CommandComplete body: the tag and its NUL. */
    private static byte[] tag(String tag) {
        return (tag + '\0').getBytes(StandardCharsets.US_ASCII);
    }
}
