package io.pgstitch.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay in front of a server that keeps a copy of everything each client sent (the
 * client-to-server direction only), for recording real sessions of psql or PgJDBC as byte streams. Each
 * connection is relayed by two daemon threads; closing the relay stops accepting.
 */
public final class RecordingRelay implements AutoCloseable {

    private final ServerSocket listener;
    private final int target;
    private final List<ByteArrayOutputStream> recordings = new CopyOnWriteArrayList<>();

    public RecordingRelay(int targetPort) throws IOException {
        this.target = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(this::accept, "recording-relay");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** What each connection's client sent so far, in the order the connections came. */
    public List<byte[]> recordings() {
        return recordings.stream().map(ByteArrayOutputStream::toByteArray).toList();
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket("127.0.0.1", target);
                ByteArrayOutputStream recording = new ByteArrayOutputStream();
                recordings.add(recording);
                pump(client, server, recording);
                pump(server, client, null);
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void pump(Socket from, Socket to, ByteArrayOutputStream copy) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (InputStream in = from.getInputStream()) {
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) > 0) {
                    if (copy != null) {
                        synchronized (copy) {
                            copy.write(buffer, 0, n);
                        }
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
                to.shutdownOutput();
            } catch (IOException e) {
                // either side went away: the other is closed below
            } finally {
                try {
                    to.close();
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }, "recording-relay-pump");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
