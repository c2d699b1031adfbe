package io.pgstitch.it.support;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for a shard that misbehaves on cue, beyond {@link FakeShard}'s answer per query: the script gets
 * each connection's handle and may answer late, unasked, in pieces, or close. It logs every connection in with
 * {@link #login} (by default {@link FakeShard#trustingLogin()}), answers {@code DISCARD ALL} (the pool's reset)
 * and anything the script does not take with a one-row result, and records every query text it was sent.
 * Loopback only; each connection on a daemon thread.
 */
public final class ScriptedShard implements AutoCloseable {

    /** What to do with a query; return false to have it answered with the default one-row result. */
    @FunctionalInterface
    public interface Script {
        boolean answer(String sql, Backend backend) throws IOException;
    }

    /** One connection from the proxy, as the script sees it. */
    public static final class Backend {
        private final Socket socket;
        private final OutputStream out;
        private final int number;

        Backend(Socket socket, int number) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
            this.number = number;
        }

        /** Counting from 1, in the order the proxy connected. */
        public int number() {
            return number;
        }

        public synchronized void send(byte[]... parts) throws IOException {
            for (byte[] part : parts) {
                out.write(part);
            }
            out.flush();
        }

        public void close() throws IOException {
            socket.close();
        }

        /** Sends {@code bytes} after {@code millis} on a thread of its own, then closes when {@code thenClose}. */
        public void later(long millis, byte[] bytes, boolean thenClose) {
            Thread thread = new Thread(() -> {
                try {
                    Thread.sleep(millis);
                    send(bytes);
                    if (thenClose) {
                        close();
                    }
                } catch (IOException | InterruptedException e) {
                    // the proxy closed first
                }
            }, "scripted-shard-later");
            thread.setDaemon(true);
            thread.start();
        }
    }

    private final ServerSocket listener;
    private final byte[] login;
    private final Script script;
    private final boolean closeAfterLogin;
    private final AtomicInteger connections = new AtomicInteger();
    private final List<String> queries = new CopyOnWriteArrayList<>();

    public ScriptedShard(Script script) throws IOException {
        this(FakeShard.trustingLogin(), script);
    }

    public ScriptedShard(byte[] login, Script script) throws IOException {
        this(login, script, false);
    }

    /** A shard that answers every startup packet with {@code login} and closes the connection. */
    public static ScriptedShard closingAfterLogin(byte[] login) throws IOException {
        return new ScriptedShard(login, (sql, backend) -> false, true);
    }

    private ScriptedShard(byte[] login, Script script, boolean closeAfterLogin) throws IOException {
        this.listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        this.login = login;
        this.script = script;
        this.closeAfterLogin = closeAfterLogin;
        Thread acceptor = new Thread(this::accept, "scripted-shard");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** Connections the proxy opened so far. */
    public int connections() {
        return connections.get();
    }

    /** Every query text received, in order. */
    public List<String> queries() {
        return List.copyOf(queries);
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket socket = listener.accept();
                Backend backend = new Backend(socket, connections.incrementAndGet());
                Thread connection = new Thread(() -> serve(socket, backend), "scripted-shard-connection");
                connection.setDaemon(true);
                connection.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket, Backend backend) {
        try (socket; DataInputStream in = new DataInputStream(socket.getInputStream())) {
            in.readNBytes(in.readInt() - 4); // the startup packet
            backend.send(login);
            if (closeAfterLogin) {
                return;
            }
            while (true) {
                byte type = in.readByte();
                byte[] body = in.readNBytes(in.readInt() - 4);
                if (type == 'X') {
                    return;
                }
                if (type != 'Q') {
                    continue;
                }
                String sql = new String(body, 0, body.length - 1, StandardCharsets.UTF_8);
                queries.add(sql);
                if (!script.answer(sql, backend)) {
                    backend.send(sql.equalsIgnoreCase("DISCARD ALL")
                            ? Wire.concat(FakeShard.message('C', "DISCARD ALL\0"), FakeShard.readyForQuery('I'))
                            : Wire.concat(FakeShard.oneRow(), FakeShard.readyForQuery('I')));
                }
            }
        } catch (IOException e) {
            // the proxy closed the connection, or the script did
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
    }
}
