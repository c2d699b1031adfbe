package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * Typed messages exactly as they crossed the wire: {@code Byte1(type) Int32(length) Byte[length-4](body)},
 * usually one message, sometimes a run of consecutive messages of one pass-through type (DataRow, CopyData)
 * that a decoder coalesced so that a result set costs one object per read, not one per row.
 *
 * <p>A large message that pgstitch only relays is not waited for: it arrives as a <em>head</em> (header and the
 * body bytes read so far, {@link #remaining()} bytes still to come) and then <em>continuations</em> (further body
 * bytes, no header, {@link #isContinuation()}), each as it was read, the last with {@code remaining() == 0}.
 * Whoever takes a head takes its continuations: they follow it to the same owner, in order, and nothing else of
 * that connection comes between them. Only a {@linkplain #isComplete() complete} frame has a {@link #body()}.
 *
 * <p>Ownership: a frame owns one reference to {@link #content()}, a slice of the decoder's cumulation buffer
 * (never a copy) or, for a message the proxy reads whole, a buffer of exactly its size. Forwarding is
 * {@code channel.write(frame.content())}, which hands that reference on; otherwise whoever holds the frame
 * releases it.
 */
public final class Frame extends DefaultByteBufHolder {

    private final byte type;
    private final int messageCount;
    private final boolean continuation;
    private final int remaining;

    private Frame(ByteBuf content, byte type, int messageCount, boolean continuation, int remaining) {
        super(content);
        this.type = type;
        this.messageCount = messageCount;
        this.continuation = continuation;
        this.remaining = remaining;
    }

    /** Takes ownership of {@code content}, which must hold {@code messageCount} complete messages. */
    public Frame(ByteBuf content, int messageCount) {
        this(content, content.getByte(content.readerIndex()), messageCount, false, 0);
    }

    public Frame(ByteBuf content) {
        this(content, 1);
    }

    /**
     * The start of a message whose last {@code remaining} body bytes follow as continuations; takes ownership of
     * {@code content}, which starts with the message's header.
     */
    public static Frame head(ByteBuf content, int remaining) {
        if (remaining <= 0) {
            throw new IllegalArgumentException("a head needs bytes to follow, not " + remaining);
        }
        return new Frame(content, content.getByte(content.readerIndex()), 1, false, remaining);
    }

    /**
     * Further body bytes of a message of {@code type} begun by a head; takes ownership of {@code content}.
     *
     * @param remaining body bytes still to come after these; 0 ends the message
     */
    public static Frame continuation(byte type, ByteBuf content, int remaining) {
        return new Frame(content, type, 0, true, remaining);
    }

    /** The message type; a continuation has its head's. */
    public byte type() {
        return type;
    }

    /**
     * How many messages of {@link #type()} begin in this frame: more than one only for coalesced runs, none for
     * a continuation.
     */
    public int messageCount() {
        return messageCount;
    }

    /** Whether this frame holds whole messages only (not a head, not a continuation). */
    public boolean isComplete() {
        return !continuation && remaining == 0;
    }

    /** Whether this frame continues a message begun in an earlier frame (it has no header). */
    public boolean isContinuation() {
        return continuation;
    }

    /** Body bytes of this frame's message still to come in continuations; 0 when the message ends here. */
    public int remaining() {
        return remaining;
    }

    /** The first message's body, a borrowed view: valid while the frame is, not to be released. */
    public ByteBuf body() {
        if (!isComplete()) {
            throw new IllegalStateException("no body in " + this + ": the message is not complete");
        }
        ByteBuf content = content();
        return content.slice(content.readerIndex() + 5, bodyLength());
    }

    /** The first message's body length (its length field minus the field itself); not for a continuation. */
    public int bodyLength() {
        if (continuation) {
            throw new IllegalStateException("a continuation has no length field");
        }
        return content().getInt(content().readerIndex() + 1) - 4;
    }

    @Override
    public Frame replace(ByteBuf content) {
        return new Frame(content, type, messageCount, continuation, remaining);
    }

    @Override
    public Frame copy() {
        return (Frame) super.copy();
    }

    @Override
    public Frame duplicate() {
        return (Frame) super.duplicate();
    }

    @Override
    public Frame retainedDuplicate() {
        return (Frame) super.retainedDuplicate();
    }

    @Override
    public Frame retain() {
        super.retain();
        return this;
    }

    @Override
    public Frame retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public Frame touch() {
        super.touch();
        return this;
    }

    @Override
    public Frame touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "Frame['" + (char) type + "', " + content().readableBytes() + " bytes"
                + (messageCount > 1 ? ", " + messageCount + " messages" : "")
                + (continuation ? ", continuation" : "") + (remaining > 0 ? ", " + remaining + " to come" : "") + "]";
    }
}
