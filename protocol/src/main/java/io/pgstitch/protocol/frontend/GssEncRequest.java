package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.ProtocolVersion;

/** GSSENCRequest: {@code Int32(8) Int32(80877104)}; answered with the single byte 'G' or 'N'. */
public final class GssEncRequest implements FrontendMessage {

    public static final GssEncRequest INSTANCE = new GssEncRequest();

    private GssEncRequest() {
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(8);
        out.writeInt(ProtocolVersion.GSSENC_REQUEST_CODE);
    }

    @Override
    public String toString() {
        return "GSSENCRequest";
    }
}
