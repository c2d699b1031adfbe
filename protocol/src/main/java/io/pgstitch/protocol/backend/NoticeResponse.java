package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** NoticeResponse: {@code Byte1('N') Int32(len) (Byte1 code, String value)* Byte1(0)}; see {@link ErrorField}. */
public record NoticeResponse(Map<Character, String> fields) implements BackendMessage, FieldMessage {

    public static final char TYPE = 'N';

    public NoticeResponse {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public static NoticeResponse decode(ByteBuf body) {
        return new NoticeResponse(ErrorField.decode(body, "NoticeResponse"));
    }

    @Override
    public void encode(ByteBuf out) {
        ErrorField.encode(out, TYPE, fields);
    }
}
