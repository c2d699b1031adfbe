package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.frontend.Query;
import io.pgstitch.protocol.frontend.Sync;
import io.pgstitch.proxy.backend.BackendLease;
import io.pgstitch.proxy.backend.BackendListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

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
 * function that made it. Savepoints are not mirrored: a ROLLBACK TO SAVEPOINT ends the connection's block as a
 * ROLLBACK would, since the two cannot be told apart by their answer.
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
    /** What to do once the COMMIT, ROLLBACK or Sync under way is answered (or the connection is lost). */
    private Runnable then;

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
    }

    void remove(String name) {
        names.remove(name);
    }

    /** A Sync ended the connection's implicit transaction: outside a block nothing outlives it. */
    void synced() {
        unsynced = false;
        if (!inBlock) {
            names.clear();
        }
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
     * Ends the connection's block as the session's ended, then gives it back and runs {@code next}. A COMMIT that
     * fails here cannot be told to the client any more (its own COMMIT is answered): it is logged.
     */
    void end(boolean commit, ByteBufAllocator alloc, Runnable next) {
        then = next;
        lease.send(new Query(commit ? "COMMIT" : "ROLLBACK").encode(alloc), frame -> {
            if (frame.type() == 'E') {
                log.warn("the RPC connection's block, kept for cursors of the session, failed to {}",
                        commit ? "commit" : "roll back");
            }
            boolean done = frame.type() == ReadyForQuery.TYPE;
            frame.release();
            if (done) {
                inBlock = false;
                names.clear();
                unsynced = false;
                giveBackIfIdle();
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
        names.clear();
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
        clear();
        lost.giveBack(true);
        if (request != null) {
            request.backendClosed();
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
