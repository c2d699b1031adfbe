package io.pgstitch.protocol.backend;

import java.util.Map;

/** What ErrorResponse and NoticeResponse share: a map of {@link ErrorField} codes to values. */
public interface FieldMessage {

    Map<Character, String> fields();

    default String severity() {
        return fields().get(ErrorField.SEVERITY);
    }

    default String sqlState() {
        return fields().get(ErrorField.CODE);
    }

    default String message() {
        return fields().get(ErrorField.MESSAGE);
    }

    default String detail() {
        return fields().get(ErrorField.DETAIL);
    }

    default String hint() {
        return fields().get(ErrorField.HINT);
    }
}
