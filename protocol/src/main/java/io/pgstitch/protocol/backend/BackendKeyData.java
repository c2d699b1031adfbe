package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.ProtocolVersion;

import java.util.Arrays;

/**
 * BackendKeyData: {@code Byte1('K') Int32(len) Int32(processId) Byte[n](secretKey)}; the secret is 4 bytes on
 * protocol 3.0 and up to 256 on 3.2.
 */
public record BackendKeyData(int processId, byte[] secretKey) implements BackendMessage {

    public static final char TYPE = 'K';

    public BackendKeyData {
        secretKey = secretKey.clone();
    }

    public static BackendKeyData decode(ByteBuf body) {
        int processId = Buffers.readInt(body, "BackendKeyData");
        int length = body.readableBytes();
        if (length < 4 || length > ProtocolVersion.MAX_CANCEL_KEY_LENGTH) {
            throw Buffers.violation("BackendKeyData secret of " + length + " bytes");
        }
        return new BackendKeyData(processId, Buffers.readBytes(body, length, "BackendKeyData secret"));
    }

    @Override
    public byte[] secretKey() {
        return secretKey.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        int length = Buffers.beginMessage(out, TYPE);
        out.writeInt(processId);
        out.writeBytes(secretKey);
        Buffers.endMessage(out, length);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof BackendKeyData key && key.processId == processId
                && Arrays.equals(key.secretKey, secretKey);
    }

    @Override
    public int hashCode() {
        return 31 * processId + Arrays.hashCode(secretKey);
    }

    @Override
    public String toString() {
        return "BackendKeyData[processId=" + processId + ", secretKey=<" + secretKey.length + " bytes>]";
    }
}
