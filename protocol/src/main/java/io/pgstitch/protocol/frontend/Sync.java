package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** Sync: {@code Byte1('S') Int32(4)} — ends an extended-protocol batch; answered by one ReadyForQuery. */
public final class Sync implements FrontendMessage {

    public static final char TYPE = 'S';
    public static final Sync INSTANCE = new Sync();

    private Sync() {
    }

    @Override
    public void encode(ByteBuf out) {
        Buffers.writeEmptyMessage(out, TYPE);
    }

    @Override
    public String toString() {
        return "Sync";
    }
}
