package io.pgstitch.it.support;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/**
 * A scripted stand-in for a shard, for what no real PostgreSQL sends: it logs every connection in (by default
 * with AuthenticationOk straight away, as a trusting server), then answers each Query with the bytes
 * {@code answer} gives for its text. Loopback only; each connection on a daemon thread; closing stops it.
 */
public final class FakeShard implements AutoCloseable {

    private final ServerSocket listener;
    private final byte[] login;
    private final Function<String, byte[]> answer;

    /**
     * @param login  what to send after the startup packet (see {@link #trustingLogin()})
     * @param answer the bytes to send for a Query's text
     */
    public FakeShard(byte[] login, Function<String, byte[]> answer) throws IOException {
        this.listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        this.login = login;
        this.answer = answer;
        Thread acceptor = new Thread(this::accept, "fake-shard");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket socket = listener.accept();
                Thread connection = new Thread(() -> serve(socket), "fake-shard-connection");
                connection.setDaemon(true);
                connection.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket; DataInputStream in = new DataInputStream(socket.getInputStream());
             OutputStream out = socket.getOutputStream()) {
            in.readNBytes(in.readInt() - 4); // the startup packet
            out.write(login);
            out.flush();
            while (true) {
                byte type = in.readByte();
                byte[] body = in.readNBytes(in.readInt() - 4);
                if (type == 'X') {
                    return;
                }
                if (type == 'Q') {
                    out.write(answer.apply(new String(body, 0, body.length - 1, StandardCharsets.UTF_8)));
                    out.flush();
                }
            }
        } catch (IOException e) {
            // the proxy closed the connection
        }
    }

    /** AuthenticationOk, server_version, a BackendKeyData and ReadyForQuery idle. */
    public static byte[] trustingLogin() {
        return concat(message('R', ByteBuffer.allocate(4).putInt(0).array()),
                message('S', "server_version\0" + "15.0\0"),
                message('K', ByteBuffer.allocate(8).putInt(4242).putInt(77).array()),
                readyForQuery('I'));
    }

    public static byte[] readyForQuery(char status) {
        return message('Z', new byte[] {(byte) status});
    }

    /** RowDescription, one DataRow and CommandComplete of {@code select 1}-like output: one int4 column. */
    public static byte[] oneRow() {
        ByteBuffer description = ByteBuffer.allocate(2 + 2 + 4 + 2 + 4 + 2 + 4 + 2)
                .putShort((short) 1).put((byte) 'x').put((byte) 0).putInt(0).putShort((short) 0).putInt(23)
                .putShort((short) 4).putInt(-1).putShort((short) 0);
        return concat(message('T', description.array()),
                message('D', ByteBuffer.allocate(2 + 4 + 1).putShort((short) 1).putInt(1).put((byte) '1').array()),
                message('C', "SELECT 1\0"));
    }

    public static byte[] message(char type, String body) {
        return message(type, body.getBytes(StandardCharsets.UTF_8));
    }

    public static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
