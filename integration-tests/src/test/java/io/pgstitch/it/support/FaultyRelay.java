package io.pgstitch.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay to put between the proxy and PostgreSQL, with faults on demand: pass bytes through, stall
 * (forward nothing more, close nothing), reset every connection (RST), or close the connections once the
 * server has sent a given number of bytes. It also keeps every byte the client side sent, so that a test can
 * assert what reached the server. Plain threads; for tests only.
 */
public final class FaultyRelay implements AutoCloseable {

    public enum Mode { PASS, STALL, DROP_AFTER_BYTES }

    private final ServerSocket listener;
    private final String targetHost;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile Mode mode = Mode.PASS;
    private volatile long dropAfterBytes = Long.MAX_VALUE;
    private final AtomicLong serverBytes = new AtomicLong();
    private final java.io.ByteArrayOutputStream fromClients = new java.io.ByteArrayOutputStream();

    public FaultyRelay(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread acceptor = new Thread(this::accept, "faulty-relay-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    public void pass() {
        mode = Mode.PASS;
    }

    public void stall() {
        mode = Mode.STALL;
    }

    /** Closes each connection once the server has sent {@code bytes} more bytes through it (from now on). */
    public void dropAfterServerBytes(long bytes) {
        serverBytes.set(0);
        dropAfterBytes = bytes;
        mode = Mode.DROP_AFTER_BYTES;
    }

    /** Resets every open connection at once: both sides see an RST, as when a network path dies. */
    public void resetAll() {
        for (Socket socket : sockets) {
            try {
                socket.setSoLinger(true, 0);
                socket.close();
            } catch (IOException e) {
                // already gone
            }
        }
        sockets.clear();
    }

    /** Every byte clients sent through the relay so far. */
    public byte[] clientBytes() {
        synchronized (fromClients) {
            return fromClients.toByteArray();
        }
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(targetHost, targetPort);
                sockets.add(client);
                sockets.add(server);
                pump(client, server, false);
                pump(server, client, true);
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(Socket from, Socket to, boolean fromServer) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    while (mode == Mode.STALL) {
                        Thread.sleep(20);
                    }
                    if (fromServer && mode == Mode.DROP_AFTER_BYTES
                            && serverBytes.addAndGet(n) > dropAfterBytes) {
                        from.close();
                        to.close();
                        return;
                    }
                    if (!fromServer) {
                        synchronized (fromClients) {
                            fromClients.write(buffer, 0, n);
                        }
                    }
                    out.write(buffer, 0, n);
                }
            } catch (IOException | InterruptedException e) {
                // one side closed or was reset: close the other
            } finally {
                try {
                    to.close();
                } catch (IOException ignored) {
                    // nothing left to do
                }
            }
        }, "faulty-relay-pump");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        resetAll();
    }
}
