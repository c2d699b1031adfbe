package io.pgstitch.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What one client sent in one session, cut into messages: the untyped startup-phase packets first, then the
 * typed messages. Stored as text, one message per line in hex, after {@code #} comment lines saying where the
 * recording came from; a {@code # expect-errors:} line lists the SQLSTATEs the session's own answers contain
 * when it is replayed unchanged.
 */
public record RecordedSession(String name, List<String> comments, List<byte[]> messages) {

    private static final String EXPECT_ERRORS = "expect-errors:";

    public RecordedSession {
        comments = List.copyOf(comments);
        messages = List.copyOf(messages);
    }

    /**
     * Cuts a client's byte stream into messages: packets of the form {@code Int32(len) ...} until the first one
     * that is neither an SSLRequest nor a GSSENCRequest (the startup packet), then {@code Byte1 Int32(len) ...}.
     */
    public static RecordedSession cut(String name, List<String> comments, byte[] stream) {
        List<byte[]> messages = new ArrayList<>();
        ByteBuffer in = ByteBuffer.wrap(stream);
        boolean startup = true;
        while (in.hasRemaining()) {
            int start = in.position();
            int length;
            if (startup) {
                length = in.getInt(start);
                int code = in.getInt(start + 4);
                startup = code == (1234 << 16 | 5679) || code == (1234 << 16 | 5680);
            } else {
                length = 1 + in.getInt(start + 1);
            }
            byte[] message = new byte[length];
            in.get(message);
            messages.add(message);
        }
        return new RecordedSession(name, comments, messages);
    }

    public byte[] bytes() {
        return Wire.concat(messages.toArray(byte[][]::new));
    }

    /** The SQLSTATEs its unchanged replay answers with, from the {@code # expect-errors:} line. */
    public List<String> expectedErrors() {
        for (String comment : comments) {
            if (comment.startsWith(EXPECT_ERRORS)) {
                String list = comment.substring(EXPECT_ERRORS.length()).trim();
                return list.isEmpty() ? List.of() : List.of(list.split("\\s*,\\s*"));
            }
        }
        return List.of();
    }

    public static RecordedSession read(String name, InputStream in) throws IOException {
        List<String> comments = new ArrayList<>();
        List<byte[]> messages = new ArrayList<>();
        for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
            line = line.strip();
            if (line.startsWith("#")) {
                comments.add(line.substring(1).strip());
            } else if (!line.isEmpty()) {
                messages.add(Wire.unhex(line));
            }
        }
        return new RecordedSession(name, comments, messages);
    }

    /** Reads {@code /fuzz/NAME.hex} from the test classpath. */
    public static RecordedSession resource(String name) throws IOException {
        try (InputStream in = RecordedSession.class.getResourceAsStream("/fuzz/" + name + ".hex")) {
            if (in == null) {
                throw new IOException("no recorded session /fuzz/" + name + ".hex on the test classpath");
            }
            return read(name, in);
        }
    }

    public void write(Path file) throws IOException {
        StringBuilder text = new StringBuilder();
        comments.forEach(comment -> text.append("# ").append(comment).append('\n'));
        messages.forEach(message -> text.append(Wire.hex(message)).append('\n'));
        Files.writeString(file, text, StandardCharsets.US_ASCII);
    }
}
