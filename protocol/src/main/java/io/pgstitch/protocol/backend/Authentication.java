package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

import java.util.ArrayList;
import java.util.List;

/**
 * The Authentication* family: {@code Byte1('R') Int32(len) Int32(code) ...}, one record per code that pgstitch
 * understands and {@link AuthenticationUnsupported} for the rest (Kerberos, GSS, SSPI).
 */
public sealed interface Authentication extends BackendMessage
        permits AuthenticationOk, AuthenticationCleartextPassword, AuthenticationMd5Password, AuthenticationSasl,
        AuthenticationSaslContinue, AuthenticationSaslFinal, AuthenticationUnsupported {

    char TYPE = 'R';
    int OK = 0;
    int CLEARTEXT_PASSWORD = 3;
    int MD5_PASSWORD = 5;
    int SASL = 10;
    int SASL_CONTINUE = 11;
    int SASL_FINAL = 12;

    static Authentication decode(ByteBuf body) {
        int code = Buffers.readInt(body, "Authentication");
        Authentication message = switch (code) {
            case OK -> AuthenticationOk.INSTANCE;
            case CLEARTEXT_PASSWORD -> AuthenticationCleartextPassword.INSTANCE;
            case MD5_PASSWORD -> new AuthenticationMd5Password(Buffers.readBytes(body, 4, "AuthenticationMD5Password salt"));
            case SASL -> new AuthenticationSasl(readMechanisms(body));
            case SASL_CONTINUE -> new AuthenticationSaslContinue(
                    Buffers.readBytes(body, body.readableBytes(), "AuthenticationSASLContinue"));
            case SASL_FINAL -> new AuthenticationSaslFinal(
                    Buffers.readBytes(body, body.readableBytes(), "AuthenticationSASLFinal"));
            default -> {
                body.skipBytes(body.readableBytes());
                yield new AuthenticationUnsupported(code);
            }
        };
        Buffers.expectEnd(body, "Authentication");
        return message;
    }

    private static List<String> readMechanisms(ByteBuf body) {
        List<String> mechanisms = new ArrayList<>();
        while (true) {
            String mechanism = Buffers.readCString(body, "AuthenticationSASL mechanism");
            if (mechanism.isEmpty()) {
                return mechanisms;
            }
            mechanisms.add(mechanism);
        }
    }

    /** Writes {@code Byte1('R') Int32(len) Int32(code)} followed by {@code extra}. */
    static void encode(ByteBuf out, int code, byte[] extra) {
        int length = Buffers.beginMessage(out, TYPE);
        out.writeInt(code);
        out.writeBytes(extra);
        Buffers.endMessage(out, length);
    }
}
