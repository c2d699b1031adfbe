package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** ErrorResponse: {@code Byte1('E') Int32(len) (Byte1 code, String value)* Byte1(0)}; see {@link ErrorField}. */
public record ErrorResponse(Map<Character, String> fields) implements BackendMessage, FieldMessage {

    public static final char TYPE = 'E';

    public ErrorResponse {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public static ErrorResponse decode(ByteBuf body) {
        return new ErrorResponse(ErrorField.decode(body, "ErrorResponse"));
    }

    @Override
    public void encode(ByteBuf out) {
        ErrorField.encode(out, TYPE, fields);
    }

    /** FATAL or PANIC: the server closes the connection after sending it. */
    public boolean isFatal() {
        return ErrorField.isFatal(fields);
    }
}
