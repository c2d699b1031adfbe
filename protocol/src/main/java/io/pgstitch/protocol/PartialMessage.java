package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.util.List;

/**
 * A large message a decoder has begun but not yet received whole, and what becomes of its bytes as they arrive.
 * Waiting for such a message in the cumulation would cost the event loop a copy of everything received so far at
 * every growth step of the cumulation (Netty grows it by 4 MiB steps above 4 MiB: quadratic in the message's
 * size) and hold the whole message in memory. Instead:
 *
 * <ul>
 *   <li><b>relayed</b>: a message the proxy only forwards goes on at once, a {@linkplain Frame#head head} with
 *       what has been read and then one {@linkplain Frame#continuation continuation} per read, each a retained
 *       slice of the read buffer (zero copy); the consumer's backpressure holds the reading back;</li>
 *   <li><b>read whole</b>: a message the proxy must read is copied once into a buffer of exactly its announced
 *       size, then emitted as one complete frame (linear cost, bounded by the caller's limit);</li>
 *   <li><b>skipped</b>: a message refused for its size is discarded as it arrives, never buffered, and once it has
 *       all been read (so that a client that is still sending it is not cut off mid-write) a report of it is
 *       emitted.</li>
 * </ul>
 *
 * One per decoder; the decoder's event loop only. Owns the read-whole buffer until it is emitted: {@link #release}
 * when the decoder goes.
 */
final class PartialMessage {

    /**
     * Length fields up to this wait in the cumulation as usual (whole frames, DataRows coalesced); a message
     * announcing more, and not yet received whole, is relayed or read whole as above. 64 KiB: what one socket read
     * brings at most by default, so a result of small rows never takes the piecewise path.
     */
    static final int WAIT_WHOLE_MAX_LENGTH = 64 * 1024;

    private enum Mode { NONE, RELAY, READ_WHOLE, SKIP }

    private Mode mode = Mode.NONE;
    private byte type;
    /** Bytes of the message not received yet. */
    private int remaining;
    private ByteBuf whole;
    /** What to emit once a skipped message has been read. */
    private Object report;

    /** Whether a message is under way: the next bytes belong to it, not to a new header. */
    boolean underWay() {
        return mode != Mode.NONE;
    }

    /** The type of the message under way. */
    byte type() {
        return type;
    }

    /** Bytes of the message under way still to come. */
    int remaining() {
        return remaining;
    }

    /**
     * Takes what {@code in} holds of the message under way, up to its end; emits a continuation (relayed) or,
     * at the end, the complete frame (read whole).
     */
    void resume(ByteBuf in, List<Object> out) {
        int n = Math.min(in.readableBytes(), remaining);
        if (n == 0) {
            return;
        }
        remaining -= n;
        switch (mode) {
            case RELAY -> out.add(Frame.continuation(type, in.readRetainedSlice(n), remaining));
            case READ_WHOLE -> {
                whole.writeBytes(in, n);
                if (remaining == 0) {
                    out.add(new Frame(whole));
                    whole = null;
                }
            }
            case SKIP -> {
                in.skipBytes(n);
                if (remaining == 0) {
                    out.add(report);
                    report = null;
                }
            }
            case NONE -> throw new IllegalStateException("no message under way");
        }
        if (remaining == 0) {
            mode = Mode.NONE;
        }
    }

    /**
     * Relays the message whose header is at the reader index of {@code in}, which does not hold it whole: emits a
     * head of everything readable.
     *
     * @param length the message's length field (already checked)
     */
    void relay(ByteBuf in, int length, List<Object> out) {
        begin(Mode.RELAY, in, length);
        out.add(Frame.head(in.readRetainedSlice(in.readableBytes()), remaining));
    }

    /** Starts reading the message at the reader index whole, into a buffer of exactly its size. */
    void readWhole(ByteBufAllocator alloc, ByteBuf in, int length) {
        begin(Mode.READ_WHOLE, in, length);
        whole = alloc.buffer(1 + length, 1 + length);
        whole.writeBytes(in, in.readableBytes());
    }

    /**
     * Discards the message at the reader index, what is readable now and the rest as it comes, then emits
     * {@code report} (not reference counted).
     */
    void skip(ByteBuf in, int length, Object report, List<Object> out) {
        int n = (int) Math.min(in.readableBytes(), 1L + length);
        begin(Mode.SKIP, in, length);
        remaining = 1 + length - n;
        in.skipBytes(n);
        if (remaining == 0) {
            mode = Mode.NONE;
            out.add(report);
        } else {
            this.report = report;
        }
    }

    private void begin(Mode next, ByteBuf in, int length) {
        mode = next;
        type = in.getByte(in.readerIndex());
        remaining = 1 + length - in.readableBytes();
    }

    /** Drops a message being read whole; the decoder is going away. Idempotent. */
    void release() {
        if (whole != null) {
            whole.release();
            whole = null;
        }
        report = null;
        mode = Mode.NONE;
    }
}
