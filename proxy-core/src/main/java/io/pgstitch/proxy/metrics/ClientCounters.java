package io.pgstitch.proxy.metrics;

import io.netty.buffer.ByteBuf;

/**
 * What one client did: bytes each way, queries and transactions with their times, the wait for a server. Written
 * on the client's event loop only, as plain fields (no atomic per message); what the shared totals and meters need
 * is handed to {@link TrafficStats.Totals} once per ReadyForQuery and when the client leaves. Other threads (the
 * admin console, the HTTP API) read the counts racily: a value may be a request behind (longs are not torn on the
 * 64-bit JVMs pgstitch runs on). Only {@link #idle()}, which PAUSE waits on, is volatile.
 *
 * <p>A <em>query</em> is one request the client ended with a ReadyForQuery (a Query, or extended-protocol
 * messages up to a Sync), timed from its first message to that ReadyForQuery; a <em>transaction</em> runs from the
 * first request after a ReadyForQuery 'I' to the next ReadyForQuery 'I', as PgBouncer counts them.
 */
public final class ClientCounters {

    private static final byte READY_FOR_QUERY = 'Z';
    private static final byte ERROR_RESPONSE = 'E';

    private final TrafficStats stats;
    private TrafficStats.Totals totals;
    private long received;
    private long sent;
    private long receivedFlushed;
    private long sentFlushed;
    private long queries;
    private long transactions;
    private long requestStartNanos;
    private long transactionStartNanos;
    private long lastRequestNanos;
    /** To turn {@link System#nanoTime()} into wall-clock time only when someone asks. */
    private static final long WALL_MINUS_NANO_MILLIS = System.currentTimeMillis() - System.nanoTime() / 1_000_000;
    private long waitNanos;
    private volatile boolean idle = true;

    ClientCounters(TrafficStats stats) {
        this.stats = stats;
    }

    /** From now on, counts go to the totals of {@code shard} and {@code databaseId} (when it is routed). */
    public void routed(String databaseId, String shard) {
        totals = stats.totals(databaseId, shard);
    }

    /** A message from the client, before it is relayed ({@code type} its type byte). */
    public void received(byte type, int bytes) {
        received += bytes;
        if (requestStartNanos == 0 && type != 'X') {
            long now = System.nanoTime();
            requestStartNanos = now;
            if (transactionStartNanos == 0) {
                transactionStartNanos = now;
            }
            idle = false;
            lastRequestNanos = now;
        }
    }

    /**
     * A whole message (or a run of one type) on its way to the client: counted, and looked at when it is a
     * ReadyForQuery (it ends a query) or an ErrorResponse (its SQLSTATE class is counted). Borrows it.
     */
    public void sent(ByteBuf message) {
        int bytes = message.readableBytes();
        sent += bytes;
        if (bytes < 6) {
            return;
        }
        byte type = message.getByte(message.readerIndex());
        if (type == READY_FOR_QUERY) {
            readyForQuery(message.getByte(message.readerIndex() + 5));
        } else if (type == ERROR_RESPONSE) {
            stats.error(ErrorClass.of(message));
        }
    }

    private void readyForQuery(byte status) {
        if (requestStartNanos == 0) {
            return; // the one after login
        }
        long now = System.nanoTime();
        long queryNanos = now - requestStartNanos;
        requestStartNanos = 0;
        queries++;
        long transactionNanos = -1;
        if (status == 'I') {
            transactions++;
            transactionNanos = now - transactionStartNanos;
            transactionStartNanos = 0;
            idle = true;
        }
        flush(queryNanos, transactionNanos);
    }

    private void flush(long queryNanos, long transactionNanos) {
        if (totals == null) {
            return; // the admin console: not traffic
        }
        long in = received;
        long out = sent;
        totals.add(queryNanos, transactionNanos, in - receivedFlushed, out - sentFlushed);
        receivedFlushed = in;
        sentFlushed = out;
    }

    /** How long the client waited for its server (or behind a PAUSE). */
    public void waited(long nanos) {
        waitNanos += nanos;
        if (totals != null) {
            totals.waited(nanos);
        }
    }

    /** The client left: bytes not yet handed to the totals are. */
    public void closed() {
        if (totals != null && (received != receivedFlushed || sent != sentFlushed)) {
            flush(-1, -1);
        }
    }

    /** No request outstanding and not in a transaction block: a new request would start a transaction. */
    public boolean idle() {
        return idle && requestStartNanos == 0;
    }

    public long received() {
        return received;
    }

    public long sent() {
        return sent;
    }

    public long queries() {
        return queries;
    }

    public long transactions() {
        return transactions;
    }

    public long waitNanos() {
        return waitNanos;
    }

    /** When the client last began a request (epoch millis); 0 before its first. */
    public long lastRequestMillis() {
        long nanos = lastRequestNanos;
        return nanos == 0 ? 0 : WALL_MINUS_NANO_MILLIS + nanos / 1_000_000;
    }
}
