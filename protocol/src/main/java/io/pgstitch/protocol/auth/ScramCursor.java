package io.pgstitch.protocol.auth;

import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

/**
 * Reads the {@code name=value} attributes of a SCRAM message, separated by ','; a value ends at ',' or at the end.
 * Its errors are {@link ScramSha256Server}'s: PostgreSQL's wording, FATAL {@code 08P01}.
 */
final class ScramCursor {

    private final String text;
    private int position;

    ScramCursor(String text) {
        this.text = text;
    }

    int position() {
        return position;
    }

    boolean atEnd() {
        return position >= text.length();
    }

    /** The next character, or 0 at the end (PostgreSQL's terminating NUL). */
    char peek() {
        return atEnd() ? 0 : text.charAt(position);
    }

    String peekSanitized() {
        return sanitize(peek());
    }

    void skip() {
        position++;
    }

    String rest() {
        return text.substring(position);
    }

    /** The text before {@code index}. */
    String before(int index) {
        return text.substring(0, index);
    }

    /** PostgreSQL's read_attribute_value: exactly {@code name=}, then the value. */
    String attribute(char name) {
        if (peek() != name) {
            throw malformed("Expected attribute \"" + name + "\" but found \"" + peekSanitized() + "\".");
        }
        skip();
        if (peek() != '=') {
            throw malformed("Expected character \"=\" for attribute \"" + name + "\".");
        }
        skip();
        return value();
    }

    /** PostgreSQL's read_any_attr: a letter, '=', then the value. */
    String anyAttribute() {
        char name = peek();
        if (!(name >= 'a' && name <= 'z' || name >= 'A' && name <= 'Z')) {
            throw malformed("Attribute expected, but found invalid character \"" + peekSanitized() + "\".");
        }
        skip();
        if (peek() != '=') {
            throw malformed("Expected character \"=\" for attribute \"" + name + "\".");
        }
        skip();
        return value();
    }

    private String value() {
        int end = text.indexOf(',', position);
        String value;
        if (end < 0) {
            value = text.substring(position);
            position = text.length();
        } else {
            value = text.substring(position, end);
            position = end + 1;
        }
        return value;
    }

    /** PostgreSQL's sanitize_char: printable ASCII as itself, anything else as 0xNN. */
    static String sanitize(char c) {
        return c >= 0x21 && c <= 0x7E ? String.valueOf(c) : String.format("0x%02x", (int) c);
    }

    static String sanitize(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length() && i < 32; i++) {
            out.append(sanitize(text.charAt(i)));
        }
        return text.length() > 32 ? out + "..." : out.toString();
    }

    static PgException malformed(String detail) {
        return PgException.fatal(SqlState.PROTOCOL_VIOLATION, "malformed SCRAM message").withDetail(detail);
    }
}
