package io.pgstitch.it.support;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw protocol client whose every read has a deadline, so that a server that neither answers nor closes is a
 * test failure ("silent for 10 s") instead of a hung build. Loopback only.
 */
public final class WireClient implements AutoCloseable {

    /** What came back: every message read, and whether the server closed the connection after them. */
    public record Answer(List<Wire.Message> messages, boolean closed, String silence) {

        /** The first ErrorResponse, or null. */
        public Wire.Message error() {
            return messages.stream().filter(Wire.Message::isError).findFirst().orElse(null);
        }

        public long count(char type) {
            return messages.stream().filter(m -> m.type() == type).count();
        }

        @Override
        public String toString() {
            return messages + (closed ? " then closed" : " then " + silence);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private WireClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    public static WireClient connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setTcpNoDelay(true);
        return new WireClient(socket);
    }

    /** Connects and logs in with trust, returning once the first ReadyForQuery is read. */
    public static WireClient loggedIn(int port, String user, String database, Duration timeout) throws IOException {
        WireClient client = connect(port);
        try {
            client.send(Wire.startup(user, database));
            Answer login = client.readUntil('Z', timeout);
            if (login.count('Z') == 0) {
                throw new IOException("no ReadyForQuery after the startup packet: " + login);
            }
            return client;
        } catch (IOException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    public void send(byte[]... parts) throws IOException {
        for (byte[] part : parts) {
            out.write(part);
        }
        out.flush();
    }

    /** Sends, ignoring a connection the server already closed (its answer is still to be read). */
    public void sendQuietly(byte[] bytes) {
        try {
            send(bytes);
        } catch (IOException e) {
            // the server closed first: what it said before is read next
        }
    }

    /** Shuts down the writing side: the server reads EOF, and may still answer. */
    public void halfClose() throws IOException {
        socket.shutdownOutput();
    }

    /**
     * Reads messages until one of {@code type} (inclusive), the server closes, or {@code timeout} passes without
     * either.
     */
    public Answer readUntil(char type, Duration timeout) throws IOException {
        return read(timeout, type);
    }

    /** Reads until the server closes, or {@code timeout} passes. */
    public Answer readToEnd(Duration timeout) throws IOException {
        return read(timeout, (char) 0);
    }

    private Answer read(Duration timeout, char until) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Wire.Message> messages = new ArrayList<>();
        while (true) {
            Wire.Message message;
            try {
                message = readMessage(deadline);
            } catch (EOFException | SocketException e) { // closed, or reset after a FATAL
                return new Answer(messages, true, null);
            } catch (SocketTimeoutException e) {
                return new Answer(messages, false, "silent for " + timeout.toMillis() + " ms");
            }
            messages.add(message);
            if (message.type() == until && until != 0) {
                return new Answer(messages, false, "not closed");
            }
        }
    }

    private Wire.Message readMessage(long deadline) throws IOException {
        byte[] header = readFully(5, deadline);
        int length = ByteBuffer.wrap(header, 1, 4).getInt();
        if (length < 4 || length > 128 * 1024 * 1024) {
            throw new IOException("server sent message '" + (char) header[0] + "' of length " + length);
        }
        return new Wire.Message((char) (header[0] & 0xFF), readFully(length - 4, deadline));
    }

    private byte[] readFully(int length, long deadline) throws IOException {
        byte[] bytes = new byte[length];
        int read = 0;
        while (read < length) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new SocketTimeoutException();
            }
            socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
            int n = in.read(bytes, read, length - read);
            if (n < 0) {
                throw new EOFException();
            }
            read += n;
        }
        return bytes;
    }

    /**
     * Reads until a message of {@code type} without keeping the bodies (for answers of many megabytes), and
     * counts the messages of each type; ErrorResponses are kept in {@code errors}.
     *
     * @throws SocketTimeoutException when {@code timeout} passes first
     * @throws EOFException when the server closes first
     */
    public java.util.Map<Character, Long> countUntil(char type, Duration timeout, List<Wire.Message> errors)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        java.util.Map<Character, Long> counts = new java.util.TreeMap<>();
        while (true) {
            Wire.Message message = readMessage(deadline);
            counts.merge(message.type(), 1L, Long::sum);
            if (message.isError()) {
                errors.add(message);
            }
            if (message.type() == type) {
                return counts;
            }
        }
    }

    /** Raw bytes until the server closes ({@code closed}) or {@code timeout} passes. */
    public record Bytes(byte[] bytes, boolean closed) {
    }

    /** Reads raw bytes until the server closes or {@code timeout} passes, keeping at most {@code limit} of them. */
    public Bytes readBytesToEnd(Duration timeout, int limit) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return new Bytes(all.toByteArray(), false);
            }
            socket.setSoTimeout((int) left);
            int n;
            try {
                n = in.read(buffer);
            } catch (SocketTimeoutException e) {
                return new Bytes(all.toByteArray(), false);
            } catch (SocketException e) { // reset after a FATAL
                return new Bytes(all.toByteArray(), true);
            }
            if (n < 0) {
                return new Bytes(all.toByteArray(), true);
            }
            all.write(buffer, 0, Math.min(n, Math.max(0, limit - all.size())));
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
