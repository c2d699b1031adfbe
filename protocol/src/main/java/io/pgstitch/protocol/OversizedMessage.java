package io.pgstitch.protocol;

/**
 * What {@link FrontendFrameDecoder} emits, instead of a frame, for a client message it must read whole but that
 * is longer than its limit, once the message has been read: its bytes were discarded as they arrived (never
 * buffered), and the session decides how to refuse it. Not reference counted.
 *
 * @param type   the message's type byte
 * @param length its length field
 * @param limit  the largest length field the decoder reads whole
 */
public record OversizedMessage(byte type, int length, int limit) {

    /** The message's name in the protocol documentation, e.g. {@code Query}. */
    public String name() {
        FrontendMessageType known = FrontendMessageType.of(type);
        return known == null ? "message " + Buffers.describeByte(type) : known.protocolName();
    }
}
