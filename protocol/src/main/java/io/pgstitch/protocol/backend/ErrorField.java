package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The field codes of ErrorResponse and NoticeResponse, and the shared body layout:
 * {@code (Byte1 code, String value)* Byte1(0)}.
 */
public final class ErrorField {

    public static final char SEVERITY = 'S';
    public static final char SEVERITY_NONLOCALIZED = 'V';
    public static final char CODE = 'C';
    public static final char MESSAGE = 'M';
    public static final char DETAIL = 'D';
    public static final char HINT = 'H';
    public static final char POSITION = 'P';
    public static final char INTERNAL_POSITION = 'p';
    public static final char INTERNAL_QUERY = 'q';
    public static final char WHERE = 'W';
    public static final char SCHEMA_NAME = 's';
    public static final char TABLE_NAME = 't';
    public static final char COLUMN_NAME = 'c';
    public static final char DATA_TYPE_NAME = 'd';
    public static final char CONSTRAINT_NAME = 'n';
    public static final char FILE = 'F';
    public static final char LINE = 'L';
    public static final char ROUTINE = 'R';

    private ErrorField() {
    }

    static Map<Character, String> decode(ByteBuf body, String what) {
        Map<Character, String> fields = new LinkedHashMap<>();
        while (true) {
            if (!body.isReadable()) {
                throw Buffers.violation(what + " is missing its terminator");
            }
            byte code = body.readByte();
            if (code == 0) {
                break;
            }
            fields.put((char) code, Buffers.readCString(body, what + " field " + Buffers.describeByte(code)));
        }
        Buffers.expectEnd(body, what);
        return Collections.unmodifiableMap(fields);
    }

    static void encode(ByteBuf out, char type, Map<Character, String> fields) {
        int length = Buffers.beginMessage(out, type);
        for (Map.Entry<Character, String> field : fields.entrySet()) {
            out.writeByte(field.getKey());
            Buffers.writeCString(out, field.getValue());
        }
        out.writeByte(0);
        Buffers.endMessage(out, length);
    }

    static boolean isFatal(Map<Character, String> fields) {
        String severity = fields.getOrDefault(SEVERITY_NONLOCALIZED, fields.get(SEVERITY));
        return "FATAL".equals(severity) || "PANIC".equals(severity);
    }
}
