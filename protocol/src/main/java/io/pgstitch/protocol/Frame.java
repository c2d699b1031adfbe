package io.pgstitch.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * Typed messages exactly as they crossed the wire: {@code Byte1(type) Int32(length) Byte[length-4](body)},
 * usually one message, sometimes a run of consecutive messages of one pass-through type (DataRow, CopyData)
 * that a decoder coalesced so that a result set costs one object per read, not one per row.
 *
 * <p>Ownership: a frame owns one reference to {@link #content()}, a slice of the decoder's cumulation buffer
 * (never a copy). Forwarding is {@code channel.write(frame.content())}, which hands that reference on;
 * otherwise whoever holds the frame releases it.
 */
public final class Frame extends DefaultByteBufHolder {

    private final byte type;
    private final int messageCount;

    /** Takes ownership of {@code content}, which must start with a complete message header. */
    public Frame(ByteBuf content, int messageCount) {
        super(content);
        this.type = content.getByte(content.readerIndex());
        this.messageCount = messageCount;
    }

    public Frame(ByteBuf content) {
        this(content, 1);
    }

    public byte type() {
        return type;
    }

    /** How many messages of {@link #type()} this frame holds (more than one only for coalesced runs). */
    public int messageCount() {
        return messageCount;
    }

    /** The first message's body, a borrowed view: valid while the frame is, not to be released. */
    public ByteBuf body() {
        ByteBuf content = content();
        return content.slice(content.readerIndex() + 5, bodyLength());
    }

    /** The first message's body length (its length field minus the field itself). */
    public int bodyLength() {
        return content().getInt(content().readerIndex() + 1) - 4;
    }

    @Override
    public Frame replace(ByteBuf content) {
        return new Frame(content, messageCount);
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
                + (messageCount > 1 ? ", " + messageCount + " messages" : "") + "]";
    }
}
