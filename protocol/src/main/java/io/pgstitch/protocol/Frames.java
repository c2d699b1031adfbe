package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;

/** Cutting frames out of a cumulation buffer, shared by both directions' decoders. */
final class Frames {

    private Frames() {
    }

    /**
     * Slices the complete message at the reader index (its length already checked) into a frame, together with
     * every following complete message of the same type when that type is pure pass-through data, and
     * advances the reader index past them. Zero copy: the frame holds a retained slice.
     *
     * @param maxLength the largest length field allowed for further messages of the run; one beyond it ends
     *                  the run so that the next decode reports it
     */
    static Frame slice(ByteBuf in, int firstLength, int maxLength) {
        int start = in.readerIndex();
        byte type = in.getByte(start);
        int end = start + 1 + firstLength;
        int count = 1;
        if (BackendMessageType.isCoalescable(type)) {
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

    static String describeType(byte type) {
        return type >= 0x20 && type < 0x7f ? "'" + (char) type + "'" : String.format("0x%02x", type & 0xFF);
    }
}
