package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;

/** Cutting frames out of a cumulation buffer, shared by both directions' decoders. */
final class Frames {

    private Frames() {
    }

    /**
     * Slices the complete message at the reader index (its length already checked) into a frame, together with
     * every following complete message of the same type when {@code coalesce} says that type is pure
     * pass-through data in this direction, and advances the reader index past them. Zero copy: the frame holds
     * a retained slice.
     *
     * @param maxLength the largest length field allowed for further messages of the run; one beyond it ends
     *                  the run so that the next decode reports it
     * @param coalesce  whether a run of this frame's type may share one frame; the type bytes mean different
     *                  messages in each direction ('D' is DataRow from a server, Describe from a client)
     */
    static Frame slice(ByteBuf in, int firstLength, int maxLength, boolean coalesce) {
        int start = in.readerIndex();
        byte type = in.getByte(start);
        int end = start + 1 + firstLength;
        int count = 1;
        if (coalesce) {
            int limit = in.writerIndex();
            while (end + 5 <= limit && in.getByte(end) == type) {
                int length = in.getInt(end + 1);
                if (length < 4 || length > maxLength || end + 1 + length > limit) {
                    break;
                }
                end += 1 + length;
                count++;
            }
        }
        Frame frame = new Frame(in.retainedSlice(start, end - start), count);
        in.readerIndex(end);
        return frame;
    }
}
