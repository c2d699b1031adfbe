package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;
import io.pgstitch.protocol.ProtocolVersion;

import java.util.Arrays;

/**
 * CancelRequest: {@code Int32(len) Int32(80877102) Int32(processId) Byte[n](secretKey)}, sent on a connection
 * of its own; the server answers nothing and closes. The secret is 4 bytes on 3.0, up to 256 on 3.2.
 */
public record CancelRequest(int processId, byte[] secretKey) implements FrontendMessage {

    public CancelRequest {
        secretKey = secretKey.clone();
    }

    /** Decodes the body after the request code. */
    public static CancelRequest decode(ByteBuf body) {
        int processId = Buffers.readInt(body, "CancelRequest");
        int length = body.readableBytes();
        if (length < 4 || length > ProtocolVersion.MAX_CANCEL_KEY_LENGTH) {
            throw Buffers.violation("CancelRequest secret of " + length + " bytes");
        }
        return new CancelRequest(processId, Buffers.readBytes(body, length, "CancelRequest secret"));
    }

    @Override
    public byte[] secretKey() {
        return secretKey.clone();
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(12 + secretKey.length);
        out.writeInt(ProtocolVersion.CANCEL_REQUEST_CODE);
        out.writeInt(processId);
        out.writeBytes(secretKey);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CancelRequest cancel && cancel.processId == processId
                && Arrays.equals(cancel.secretKey, secretKey);
    }

    @Override
    public int hashCode() {
        return 31 * processId + Arrays.hashCode(secretKey);
    }

    @Override
    public String toString() {
        return "CancelRequest[processId=" + processId + ", secretKey=<" + secretKey.length + " bytes>]";
    }
}
