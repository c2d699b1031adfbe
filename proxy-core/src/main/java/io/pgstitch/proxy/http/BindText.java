package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Bind of the unnamed portal to the unnamed statement, every parameter and result in text:
 * <pre>
 * Byte1('B') Int32(len) String(portal "") String(statement "") Int16(0 parameter formats: text)
 * Int16(n) n × (Int32(length, -1 for NULL) Byte[length]) Int16(0 result formats: text)
 * </pre>
 */
final class BindText {

    private BindText() {
    }

    /** Writes the message at {@code out}'s writer index. */
    static void encode(ByteBuf out, List<String> parameters) {
        int length = Buffers.beginMessage(out, 'B');
        out.writeByte(0);
        out.writeByte(0);
        out.writeShort(0);
        out.writeShort(parameters.size());
        for (String parameter : parameters) {
            if (parameter == null) {
                out.writeInt(-1);
            } else {
                int lengthIndex = out.writerIndex();
                out.writeInt(0);
                int written = out.writeCharSequence(parameter, StandardCharsets.UTF_8);
                out.setInt(lengthIndex, written);
            }
        }
        out.writeShort(0);
        Buffers.endMessage(out, length);
    }
}
