package io.pgstitch.it;

import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A shard whose authentication request pgstitch cannot answer is refused with words, not with a Java array. */
class ShardAuthenticationRequestIT {

    /** A fake shard that answers the startup packet with {@code Authentication} of {@code code} and {@code data}. */
    private static Thread fakeShard(ServerSocket listener, int code, byte[] data) {
        Thread fake = new Thread(() -> {
            try (Socket socket = listener.accept();
                 DataInputStream in = new DataInputStream(socket.getInputStream());
                 OutputStream out = socket.getOutputStream()) {
                in.readNBytes(in.readInt() - 4); // the startup packet
                out.write(ByteBuffer.allocate(9 + data.length).put((byte) 'R').putInt(8 + data.length).putInt(code)
                        .put(data).array());
                out.flush();
                in.read(); // until pgstitch gives up
            } catch (IOException e) {
                // closed
            }
        }, "fake-shard");
        fake.setDaemon(true);
        fake.start();
        return fake;
    }

    private static String refusal(int code, byte[] data) throws Exception {
        try (ServerSocket listener = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"))) {
            fakeShard(listener, code, data);
            String yaml = """
                    listen: { host: 127.0.0.1, port: 0 }
                    shards:
                      fake: { host: 127.0.0.1, port: %d, user: postgres, password: secret }
                    default_route: fake
                    """.formatted(listener.getLocalPort());
            try (TestProxy proxy = TestProxy.start(yaml)) {
                String[] message = new String[1];
                assertThatThrownBy(() -> proxy.connect("postgres")).isInstanceOfSatisfying(SQLException.class,
                        e -> message[0] = e.getMessage());
                return message[0];
            }
        }
    }

    @Test
    void aSaslContinueOutOfTurnIsNamedNotPrintedAsAnArray() throws Exception {
        String message = refusal(11, "r=abc,s=c2FsdA==,i=4096".getBytes(StandardCharsets.US_ASCII));
        assertThat(message).doesNotContain("[B@").contains("pgstitch cannot log in to shard \"fake\": the server"
                + " asks for an authentication method pgstitch does not support: AuthenticationSaslContinue");
    }

    @Test
    void anUnsupportedMethodIsNamedByItsCode() throws Exception {
        assertThat(refusal(7, new byte[0])).contains("does not support: code 7"); // GSS
    }
}
