package io.pgstitch.it.support;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bytes of the PostgreSQL protocol, well-formed or not, for tests that send what drivers never send, and the
 * reading of a server's byte stream back into messages.
 */
public final class Wire {

    /** Protocol 3.0 in the startup packet's version field. */
    public static final int V3_0 = 3 << 16;

    private Wire() {
    }

    /** One backend message: its type byte and body. */
    public record Message(char type, byte[] body) {

        /** The fields of an ErrorResponse or NoticeResponse, by field code. */
        public Map<Character, String> fields() {
            Map<Character, String> fields = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int end = i;
                while (end < body.length && body[end] != 0) {
                    end++;
                }
                fields.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return fields;
        }

        public boolean isError() {
            return type == 'E';
        }

        public String severity() {
            return fields().get('V') != null ? fields().get('V') : fields().get('S');
        }

        public String sqlState() {
            return fields().get('C');
        }

        public String message() {
            return fields().get('M');
        }

        /** The body as text, for DataRow or CopyData assertions. */
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return switch (type) {
                case 'E', 'N' -> type + "(" + severity() + " " + sqlState() + " " + message() + ")";
                case 'Z' -> "Z(" + (body.length == 1 ? (char) body[0] : "?") + ")";
                default -> String.valueOf(type);
            };
        }
    }

    public static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** NUL-terminated strings, one after the other. */
    public static byte[] cstrings(String... strings) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String s : strings) {
            out.writeBytes(utf8(s));
            out.write(0);
        }
        return out.toByteArray();
    }

    public static byte[] ints(int... values) {
        ByteBuffer buffer = ByteBuffer.allocate(4 * values.length);
        for (int value : values) {
            buffer.putInt(value);
        }
        return buffer.array();
    }

    public static byte[] shorts(int... values) {
        ByteBuffer buffer = ByteBuffer.allocate(2 * values.length);
        for (int value : values) {
            buffer.putShort((short) value);
        }
        return buffer.array();
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    public static byte[] repeat(byte[] part, int times) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(part.length * times);
        for (int i = 0; i < times; i++) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** The name/value pairs of a startup packet, each NUL-terminated, without the final terminator. */
    public static byte[] parameters(Map<String, String> parameters) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parameters.forEach((name, value) -> out.writeBytes(cstrings(name, value)));
        return out.toByteArray();
    }

    /** {@code Int32(len) Int32(version) parameters 0}: a well-formed startup packet. */
    public static byte[] startup(int version, Map<String, String> parameters) {
        return untyped(version, concat(parameters(parameters), new byte[] {0}));
    }

    public static byte[] startup(String user, String database) {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", user);
        parameters.put("database", database);
        return startup(V3_0, parameters);
    }

    /** {@code Int32(len) Int32(code) rest}, the length counting everything: startup, SSL, GSS and cancel packets. */
    public static byte[] untyped(int code, byte[] rest) {
        return ByteBuffer.allocate(8 + rest.length).putInt(8 + rest.length).putInt(code).put(rest).array();
    }

    /** {@code Byte1(type) Int32(4 + body) body}. */
    public static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    /** A type byte and a length field with nothing behind them: the length is what is being tested. */
    public static byte[] header(char type, int length) {
        return ByteBuffer.allocate(5).put((byte) type).putInt(length).array();
    }

    public static byte[] query(String sql) {
        return message('Q', cstrings(sql));
    }

    /** Parse with no parameter types given. */
    public static byte[] parse(String statement, String sql) {
        return message('P', concat(cstrings(statement, sql), shorts(0)));
    }

    /** Bind of text parameters, no format codes, all result columns as text. */
    public static byte[] bind(String portal, String statement, String... parameters) {
        ByteArrayOutputStream values = new ByteArrayOutputStream();
        for (String parameter : parameters) {
            byte[] value = utf8(parameter);
            values.writeBytes(ints(value.length));
            values.writeBytes(value);
        }
        return bindRaw(portal, statement, concat(shorts(0, parameters.length), values.toByteArray(), shorts(0)));
    }

    /** Bind whose body after the two names is {@code rest}, as given. */
    public static byte[] bindRaw(String portal, String statement, byte[] rest) {
        return message('B', concat(cstrings(portal, statement), rest));
    }

    public static byte[] describe(char kind, String name) {
        return message('D', concat(new byte[] {(byte) kind}, cstrings(name)));
    }

    public static byte[] execute(String portal, int maxRows) {
        return message('E', concat(cstrings(portal), ints(maxRows)));
    }

    public static byte[] sync() {
        return message('S', new byte[0]);
    }

    public static byte[] flush() {
        return message('H', new byte[0]);
    }

    public static byte[] terminate() {
        return message('X', new byte[0]);
    }

    public static byte[] copyData(String data) {
        return message('d', utf8(data));
    }

    public static byte[] copyDone() {
        return message('c', new byte[0]);
    }

    /** FunctionCall of {@code oid} with no arguments, result in text. */
    public static byte[] functionCall(int oid) {
        return message('F', concat(ints(oid), shorts(0, 0, 0)));
    }

    /**
     * Splits a server's byte stream into messages.
     *
     * @throws IllegalArgumentException when the stream is not a sequence of well-framed messages
     */
    public static List<Message> split(byte[] stream) {
        List<Message> messages = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(stream);
        while (in.hasRemaining()) {
            if (in.remaining() < 5) {
                throw new IllegalArgumentException(in.remaining() + " trailing bytes after " + messages.size()
                        + " messages");
            }
            char type = (char) (in.get() & 0xFF);
            int length = in.getInt();
            if (length < 4 || length - 4 > in.remaining()) {
                throw new IllegalArgumentException("message " + messages.size() + " of type '" + type
                        + "' has length " + length + " with " + in.remaining() + " bytes left");
            }
            byte[] body = new byte[length - 4];
            in.get(body);
            messages.add(new Message(type, body));
        }
        return messages;
    }

    /** Hex of {@code bytes}, two digits a byte. */
    public static String hex(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            out.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return out.toString();
    }

    public static byte[] unhex(String hex) {
        byte[] bytes = new byte[hex.length() / 2];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) Integer.parseInt(hex, 2 * i, 2 * i + 2, 16);
        }
        return bytes;
    }
}
