package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes JSON, UTF-8, into an array of its own that becomes one buffer ({@link #toBuffer()}): an event or a
 * response is built byte by byte, and a {@link ByteBuf} checks bounds and reference counts on every call (and
 * records each one under paranoid leak detection), an array does not. Values that arrive as UTF-8 bytes (a
 * column's text) are escaped as bytes: every byte of a multi-byte UTF-8 sequence is 0x80 or above, so only
 * {@code "}, {@code \} and control bytes need it. The writer puts the commas; nesting is at most
 * {@link #MAX_DEPTH} deep.
 */
final class JsonOut {

    private static final int MAX_DEPTH = 16;
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRUE = "true".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FALSE = "false".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);

    private byte[] bytes;
    private int length;
    /** Per open object or array: whether a value was written in it already (the next one needs a comma). */
    private final boolean[] filled = new boolean[MAX_DEPTH];
    private int depth;
    /** A name was just written: its value takes no comma. */
    private boolean afterName;

    JsonOut() {
        this(256);
    }

    JsonOut(int capacity) {
        bytes = new byte[capacity];
    }

    /** What was written, as a buffer over this writer's array (not pooled, so nothing to leak); the caller owns it. */
    ByteBuf toBuffer() {
        return Unpooled.wrappedBuffer(bytes, 0, length);
    }

    /** What was written, as text (tests, logs). */
    @Override
    public String toString() {
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }

    JsonOut beginObject() {
        beforeValue();
        put((byte) '{');
        open();
        return this;
    }

    JsonOut endObject() {
        depth--;
        put((byte) '}');
        return this;
    }

    JsonOut beginArray() {
        beforeValue();
        put((byte) '[');
        open();
        return this;
    }

    JsonOut endArray() {
        depth--;
        put((byte) ']');
        return this;
    }

    /** Where the writer is, to {@link #truncate} back to: inside an array or object just opened. */
    int mark() {
        return length;
    }

    /**
     * Drops what was written since {@link #mark()} was taken, right after a {@code [} or <code>{</code> that is
     * still open: the container is empty again.
     */
    void truncate(int mark) {
        length = mark;
        filled[depth - 1] = false;
    }

    /** Ends a line (NDJSON). */
    JsonOut newline() {
        put((byte) '\n');
        return this;
    }

    /** A member name; the next call writes its value. Names are pgstitch's own: plain ASCII. */
    JsonOut name(String name) {
        beforeValue();
        put((byte) '"');
        ascii(name);
        put((byte) '"');
        put((byte) ':');
        afterName = true;
        return this;
    }

    JsonOut string(String value) {
        if (value == null) {
            return nullValue();
        }
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        return utf8String(utf8, 0, utf8.length);
    }

    /** A string from UTF-8 bytes: {@code count} bytes of {@code in} from {@code offset}. */
    JsonOut utf8String(byte[] in, int offset, int count) {
        beforeValue();
        ensure(count + 2);
        bytes[length++] = '"';
        int run = offset;
        int end = offset + count;
        for (int i = offset; i < end; i++) {
            byte b = in[i];
            if (b == '"' || b == '\\' || (b >= 0 && b < 0x20)) {
                copy(in, run, i - run);
                escape(b);
                run = i + 1;
            }
        }
        copy(in, run, end - run);
        put((byte) '"');
        return this;
    }

    /** A value that is JSON already (a number's text, a json column): copied as it is. */
    JsonOut raw(byte[] in, int offset, int count) {
        beforeValue();
        copy(in, offset, count);
        return this;
    }

    /** A value that is JSON text already (a request's id echoed back). */
    JsonOut raw(String json) {
        byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
        return raw(utf8, 0, utf8.length);
    }

    JsonOut number(long value) {
        beforeValue();
        ascii(Long.toString(value));
        return this;
    }

    JsonOut bool(boolean value) {
        beforeValue();
        copy(value ? TRUE : FALSE, 0, value ? 4 : 5);
        return this;
    }

    JsonOut nullValue() {
        beforeValue();
        copy(NULL, 0, 4);
        return this;
    }

    /** A member whose value is a string, left out when the value is null. */
    JsonOut optional(String name, String value) {
        return value == null ? this : name(name).string(value);
    }

    private void open() {
        if (depth == MAX_DEPTH) {
            throw new IllegalStateException("JSON nested deeper than " + MAX_DEPTH);
        }
        filled[depth++] = false;
    }

    private void beforeValue() {
        if (afterName) {
            afterName = false;
            return;
        }
        if (depth > 0) {
            if (filled[depth - 1]) {
                put((byte) ',');
            }
            filled[depth - 1] = true;
        }
    }

    private void escape(byte c) {
        ensure(6);
        bytes[length++] = '\\';
        switch (c) {
            case '"' -> bytes[length++] = '"';
            case '\\' -> bytes[length++] = '\\';
            case '\n' -> bytes[length++] = 'n';
            case '\r' -> bytes[length++] = 'r';
            case '\t' -> bytes[length++] = 't';
            case '\b' -> bytes[length++] = 'b';
            case '\f' -> bytes[length++] = 'f';
            default -> {
                bytes[length++] = 'u';
                bytes[length++] = '0';
                bytes[length++] = '0';
                bytes[length++] = HEX[c >> 4];
                bytes[length++] = HEX[c & 0xF];
            }
        }
    }

    private void ascii(String text) {
        ensure(text.length());
        for (int i = 0; i < text.length(); i++) {
            bytes[length++] = (byte) text.charAt(i);
        }
    }

    private void put(byte b) {
        ensure(1);
        bytes[length++] = b;
    }

    private void copy(byte[] in, int offset, int count) {
        ensure(count);
        System.arraycopy(in, offset, bytes, length, count);
        length += count;
    }

    private void ensure(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
