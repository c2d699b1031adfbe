package io.pgstitch.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A deliberately dumb PostgreSQL client over a plain socket, for sending what real drivers never send:
 * hostile startup packets, odd protocol versions, garbage lengths.
 */
final class RawClient implements AutoCloseable {

    /** One backend message: its type byte and body. */
    record Message(char type, byte[] body) {

        /** The fields of an ErrorResponse or NoticeResponse, by field code. */
        Map<Character, String> fields() {
            Map<Character, String> fields = new LinkedHashMap<>();
            int i = 0;
            while (i < body.length && body[i] != 0) {
                char code = (char) body[i++];
                int end = i;
                while (body[end] != 0) {
                    end++;
                }
                fields.put(code, new String(body, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return fields;
        }

        String sqlState() {
            return fields().get('C');
        }

        String message() {
            return fields().get('M');
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    private RawClient(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(15_000);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    static RawClient connect(int port) throws IOException {
        return new RawClient(new Socket("127.0.0.1", port));
    }

    /** Over a socket the test configured itself (closing the client closes it). */
    Socket socket() {
        return socket;
    }

    static RawClient wrap(Socket socket) throws IOException {
        return new RawClient(socket);
    }

    /** A startup packet with the given version and raw parameter bytes (each name and value NUL-terminated). */
    static byte[] startupPacket(int version, byte[] parameters) {
        ByteBuffer packet = ByteBuffer.allocate(4 + 4 + parameters.length + 1);
        packet.putInt(packet.capacity()).putInt(version).put(parameters).put((byte) 0);
        return packet.array();
    }

    static byte[] parameters(Map<String, String> parameters) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        parameters.forEach((name, value) -> {
            bytes.writeBytes(name.getBytes(StandardCharsets.UTF_8));
            bytes.write(0);
            bytes.writeBytes(value.getBytes(StandardCharsets.UTF_8));
            bytes.write(0);
        });
        return bytes.toByteArray();
    }

    void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void sendStartup(Map<String, String> parameters) throws IOException {
        send(startupPacket(196608, parameters(parameters)));
    }

    /** A typed frontend message. */
    void send(char type, byte[] body) throws IOException {
        ByteBuffer message = ByteBuffer.allocate(1 + 4 + body.length);
        message.put((byte) type).putInt(4 + body.length).put(body);
        send(message.array());
    }

    int readByte() throws IOException {
        return in.read();
    }

    Message read() throws IOException {
        char type = (char) in.readUnsignedByte();
        int length = in.readInt();
        byte[] body = new byte[length - 4];
        in.readFully(body);
        return new Message(type, body);
    }

    /** Reads until a message of {@code type} arrives and returns it. */
    Message readUntil(char type) throws IOException {
        Message message;
        do {
            message = read();
        } while (message.type() != type);
        return message;
    }

    /** True when the server closed the connection (EOF) with nothing more to read. */
    boolean closedByServer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (EOFException e) {
            return true;
        } catch (IOException e) {
            return true; // reset by peer
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
