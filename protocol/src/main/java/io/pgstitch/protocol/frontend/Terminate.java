package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** Terminate: {@code Byte1('X') Int32(4)} — the client is leaving. */
public final class Terminate implements FrontendMessage {

    public static final char TYPE = 'X';
    public static final Terminate INSTANCE = new Terminate();

    private Terminate() {
    }

    @Override
    public void encode(ByteBuf out) {
        Buffers.writeEmptyMessage(out, TYPE);
    }

    @Override
    public String toString() {
        return "Terminate";
    }
}
