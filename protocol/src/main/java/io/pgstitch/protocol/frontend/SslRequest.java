package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.ProtocolVersion;

/** SSLRequest: {@code Int32(8) Int32(80877103)}; answered with the single byte 'S' or 'N'. */
public final class SslRequest implements FrontendMessage {

    public static final SslRequest INSTANCE = new SslRequest();

    private SslRequest() {
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeInt(8);
        out.writeInt(ProtocolVersion.SSL_REQUEST_CODE);
    }

    @Override
    public String toString() {
        return "SSLRequest";
    }
}
