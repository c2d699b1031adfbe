package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.proxy.backend.BackendLease;
import io.pgstitch.proxy.backend.BackendListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The RPC connection a session keeps while something an RPC call made lives on past the call's own step, for as
 * long as PostgreSQL would keep it on the session: a cursor declared over an RPC call ({@code DECLARE c CURSOR FOR
 * SELECT iasql_x()}, psql's FETCH_COUNT, psycopg2's named cursors), or an RPC portal read in steps (an Execute with
 * a row limit, node-postgres' pg-cursor, PgJDBC's fetch size). In autocommit such a portal lives until the
 * client's Sync: the connection's implicit transaction stays open, its messages ending with Flush. In a
 * transaction block the connection has a block of its own, begun before its first call and ended, COMMIT or
 * ROLLBACK as the session's was, when the session's block ends: every cursor and portal on it lives until then.
 * Otherwise it goes back to its pool. Session loop only.
 *
 * <p>Cursors and portals share PostgreSQL's one namespace of portals, and so one map here: name to the RPC
 * function that made it. The connection's block follows the session's ({@link StitchStep.OnKept}): each
 * savepoint the session sets while the block is kept is set here too, under a name of pgstitch's own
 * ({@code pgstitch_N}, N its depth, so that no client's name needs re-encoding), and RELEASE and ROLLBACK TO go
 * to the matching one; a savepoint the session set before this block began is older than all that lives here,
 * so rolling back to it ends this block, and releasing it releases this block's oldest. Each cursor and portal
 * is noted with the depth it was made at, so that a ROLLBACK TO forgets those PostgreSQL destroys.
 */
final class KeptConnection implements BackendListener {

    private static final Logger log = LoggerFactory.getLogger(KeptConnection.class);

    private BackendLease lease;
    /** The stitched request using the connection now: its channel events go there. */
    private BackendListener user;
    private boolean inBlock;
    /** {@link TransactionWatch#blockEnds()} when the block began: a different count means the session's ended. */
    private long blockMark;
    /** Messages went out ending with Flush: the connection owes a Sync. */
    private boolean unsynced;
    private final Map<String, String> names = new HashMap<>();
    /** Each name's depth: how many of {@link #savepoints} there were when it was made. */
    private final Map<String, Integer> depths = new HashMap<>();
    /** The session's savepoints set while the block is kept, oldest first; the i-th is {@code pgstitch_i} here. */
    private final List<String> savepoints = new ArrayList<>();
    /** What to do once the command or Sync under way is answered (or the connection is lost). */
    private Runnable then;
    /** Told of an error answering the command under way (it takes the message); null for a Sync. */
    private Consumer<ByteBuf> failure;

    boolean active() {
        return lease != null;
    }

    BackendLease lease() {
        return lease;
    }

    /** Keeps {@code attached}, a lease whose listener is this. */
    void keep(BackendLease attached) {
        lease = attached;
    }

    void use(BackendListener request) {
        user = request;
    }

    void unuse() {
        user = null;
    }

    boolean inBlock() {
        return inBlock;
    }

    long blockMark() {
        return blockMark;
    }

    /** The connection begins a block for a session block, the watch having seen {@code blockEnds} ends so far. */
    void begin(long blockEnds) {
        inBlock = true;
        blockMark = blockEnds;
    }

    /** The session's block goes on after a ROLLBACK TO, which the watch counted as an end ({@code blockEnds}). */
    void goesOn(long blockEnds) {
        if (inBlock) {
            blockMark = blockEnds;
        }
    }

    boolean unsynced() {
        return unsynced;
    }

    void sentUnsynced() {
        unsynced = true;
    }

    /** The RPC function whose cursor or portal {@code name} lives here, or null. */
    String function(String name) {
        return lease == null ? null : names.get(name);
    }

    boolean hasNames() {
        return !names.isEmpty();
    }

    void add(String name, String function) {
        names.put(name, function);
        depths.put(name, savepoints.size());
    }

    void remove(String name) {
        names.remove(name);
        depths.remove(name);
    }

    /** A Sync ended the connection's implicit transaction: outside a block nothing outlives it. */
    void synced() {
        unsynced = false;
        if (!inBlock) {
            forgetNames();
        }
    }

    private void forgetNames() {
        names.clear();
        depths.clear();
    }

    /**
     * The query that makes the connection follow {@code step} of the session's block, or null when there is
     * nothing to do; notes at once what it does to the savepoints and names here. Whether the query ends the
     * block: {@link #endsBlock(String)}.
     */
    String follow(StitchStep.OnKept step) {
        if (lease == null || !inBlock && step.follows() != StitchStep.OnKept.Follows.CLOSE_ALL) {
            return null;
        }
        int at = step.savepoint() == null ? -1 : savepoints.lastIndexOf(step.savepoint());
        switch (step.follows()) {
            case SAVEPOINT -> {
                savepoints.add(step.savepoint());
                return "SAVEPOINT " + savepoint(savepoints.size() - 1);
            }
            case RELEASE -> {
                if (savepoints.isEmpty()) {
                    return null; // released one older than this block: nothing of this block's goes
                }
                int released = Math.max(at, 0); // and what was set after it
                savepoints.subList(released, savepoints.size()).clear();
                depths.replaceAll((name, depth) -> Math.min(depth, released));
                return "RELEASE SAVEPOINT " + savepoint(released);
            }
            case ROLLBACK_TO -> {
                if (at < 0) {
                    return "ROLLBACK"; // older than this block: everything here was made after it
                }
                savepoints.subList(at + 1, savepoints.size()).clear();
                depths.entrySet().removeIf(entry -> entry.getValue() > at && names.remove(entry.getKey()) != null);
                return "ROLLBACK TO SAVEPOINT " + savepoint(at);
            }
            case CLOSE_ALL -> {
                forgetNames();
                return "CLOSE ALL";
            }
            case COMMIT -> {
                return "COMMIT";
            }
            default -> throw new IllegalStateException("unknown step " + step);
        }
    }

    /** Whether {@code query} (one of {@link #follow}'s, or ROLLBACK) ends the connection's block. */
    static boolean endsBlock(String query) {
        return query.equals("COMMIT") || query.equals("ROLLBACK");
    }

    private static String savepoint(int depth) {
        return "pgstitch_" + depth;
    }

    /** Gives the connection back when nothing lives on it any more. */
    void giveBackIfIdle() {
        if (lease != null && !inBlock && !unsynced && names.isEmpty()) {
            BackendLease done = lease;
            clear();
            done.giveBack(false);
        }
    }

    /**
     * Ends the connection's block as the session's already ended, then gives it back and runs {@code next}. A
     * COMMIT that fails here cannot be told to the client any more (its own COMMIT is answered): it is logged.
     * (A COMMIT the client sends while the block is kept, as a Query or with
     * Parse/Bind/Execute, is followed before the session's: {@link #follow}.)
     */
    void end(boolean commit, ByteBufAllocator alloc, Runnable next) {
        run(commit ? "COMMIT" : "ROLLBACK", alloc, error -> {
            error.release();
            log.warn("the RPC connection's block, kept for cursors of the session, failed to {}",
                    commit ? "commit" : "roll back");
        }, next);
    }

    /**
     * Runs {@code query} ({@link #follow}'s, or the end of the block), then runs {@code next}; an error answering
     * it goes to {@code failed}, which takes it. When the query ends the block the connection goes back, also when
     * it failed (a failed COMMIT rolls back).
     */
    void run(String query, ByteBufAllocator alloc, Consumer<ByteBuf> failed, Runnable next) {
        then = next;
        failure = failed;
        boolean ends = endsBlock(query);
        lease.send(new Query(query).encode(alloc), frame -> {
            if (frame.type() == ErrorResponse.TYPE && failure != null) {
                Consumer<ByteBuf> told = failure;
                failure = null;
                told.accept(frame.content());
                return;
            }
            boolean done = frame.type() == ReadyForQuery.TYPE;
            frame.release();
            if (done) {
                failure = null;
                if (ends) {
                    inBlock = false;
                    forgetNames();
                    savepoints.clear();
                    unsynced = false;
                    giveBackIfIdle();
                }
                runThen();
            }
        });
        lease.flush();
    }

    /** Sends the Sync the connection owes, then runs {@code next}; it goes back if nothing lives on. */
    void sync(ByteBufAllocator alloc, Runnable next) {
        then = next;
        lease.send(Sync.INSTANCE.encode(alloc), frame -> {
            boolean done = frame.type() == ReadyForQuery.TYPE;
            frame.release();
            if (done) {
                synced();
                giveBackIfIdle();
                runThen();
            }
        });
        lease.flush();
    }

    private void runThen() {
        Runnable next = then;
        then = null;
        if (next != null) {
            next.run();
        }
    }

    /** The client left: the connection goes back (closed by its pool when a block is still open on it). */
    void release() {
        if (lease != null) {
            BackendLease done = lease;
            clear();
            done.giveBack(false);
        }
    }

    private void clear() {
        lease = null;
        user = null;
        inBlock = false;
        unsynced = false;
        forgetNames();
        savepoints.clear();
    }

    /** The RPC connection's own parameter changes and notifications are not the client's. */
    @Override
    public void response(Frame frame) {
        frame.release();
    }

    @Override
    public void backendReadComplete() {
        if (user != null) {
            user.backendReadComplete();
        }
    }

    @Override
    public void backendWritabilityChanged(boolean writable) {
        // a call is a few small messages: nothing to hold back
    }

    /** Lost: what lived on it is gone; a request using it is told, one waiting for a COMMIT or Sync goes on. */
    @Override
    public void backendClosed() {
        if (lease == null) {
            return;
        }
        BackendLease lost = lease;
        BackendListener request = user;
        Consumer<ByteBuf> told = failure;
        failure = null;
        clear();
        lost.giveBack(true);
        if (request != null) {
            request.backendClosed();
        }
        if (told != null) { // what was to follow the session's block cannot have
            told.accept(PgException.error(SqlState.CONNECTION_FAILURE, "the RPC connection kept for cursors of"
                    + " the session, " + lost.connection().describe() + ", closed unexpectedly")
                    .toErrorResponse().encode(lost.channel().alloc()));
        }
        runThen();
    }

    @Override
    public void backendFailed(Throwable cause) {
        if (lease != null) {
            lease.channel().close(); // backendClosed() follows
        }
    }

    /** The Flush message: {@code Byte1('H') Int32(4)}. */
    static ByteBuf flush(ByteBufAllocator alloc) {
        return alloc.buffer(5).writeByte('H').writeInt(4);
    }
}
