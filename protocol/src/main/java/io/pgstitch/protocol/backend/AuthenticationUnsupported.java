package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;

/** An Authentication request pgstitch cannot answer (KerberosV5 2, SCM 6, GSS 7, GSSContinue 8, SSPI 9). */
public record AuthenticationUnsupported(int code) implements Authentication {

    @Override
    public void encode(ByteBuf out) {
        Authentication.encode(out, code, new byte[0]);
    }
}
