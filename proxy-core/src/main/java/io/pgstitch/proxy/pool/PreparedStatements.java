package io.pgstitch.proxy.pool;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The named prepared statements of one client in transaction or statement mode (protocol level: Parse with a
 * name). Backends are shared, so a statement gets a name of pgstitch's own there, derived from its text and
 * parameter types: two clients that prepare the same statement share it on a backend, and two that give different
 * statements one name never meet. Touched only by the lease that serves the client, on its backend's loop.
 */
public final class PreparedStatements {

    /**
     * One statement as the client defined it.
     *
     * @param serverName its name on every backend
     * @param definition the Parse body after the statement name (query text, parameter types), as the client sent
     *                   it: what is sent again to a backend that lacks it
     */
    public record Statement(String serverName, byte[] definition) {

        boolean sameDefinition(byte[] other) {
            return Arrays.equals(definition, other);
        }
    }

    /** Backend names never used by a client: a Close of one of them is always answered with CloseComplete. */
    public static final String ABSENT = "pgstitch_absent";

    private final Map<String, Statement> byClientName = new HashMap<>();

    /** Records the client's Parse of {@code name}; returns the statement with its backend name. */
    public Statement define(String name, byte[] definition) {
        Statement statement = new Statement(serverName(definition), definition);
        byClientName.put(name, statement);
        return statement;
    }

    /**
     * Records the Parse message in {@code content} (type and length included, not consumed) when it names its
     * statement; returns the client's name, or null for the unnamed statement (which is not tracked).
     */
    public String define(ByteBuf content) {
        int nameStart = content.readerIndex() + 5;
        int nameEnd = content.indexOf(nameStart, content.writerIndex(), (byte) 0);
        if (nameEnd <= nameStart) {
            return null;
        }
        String name = content.toString(nameStart, nameEnd - nameStart, StandardCharsets.ISO_8859_1);
        byte[] definition = new byte[content.writerIndex() - nameEnd - 1];
        content.getBytes(nameEnd + 1, definition);
        define(name, definition);
        return name;
    }

    /** The client's statement of that name, or null. */
    public Statement get(String name) {
        return byClientName.get(name);
    }

    /** Close: frees the client's name only; the backends keep the statement for other clients. */
    public void close(String name) {
        byClientName.remove(name);
    }

    /** DEALLOCATE ALL or DISCARD ALL from the client. */
    public void clear() {
        byClientName.clear();
    }

    /** {@code pgstitch_} and a 64-bit FNV-1a hash of the definition; backends compare the definition too. */
    static String serverName(byte[] definition) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : definition) {
            hash = (hash ^ (b & 0xff)) * 0x100000001b3L;
        }
        return "pgstitch_" + Long.toHexString(hash);
    }
}
