package io.pgstitch.it;

import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a hostile or merely odd client sends, in every state of a session: each failure ends in an ErrorResponse
 * (FATAL 08P01 for a protocol violation) and a close, never a silent open session; a half-closed client still
 * gets its answer, as from PostgreSQL.
 */
@ExtendWith(PostgresExtension.class)
class HostileClientIT {

    private static TestProxy proxy;

    @BeforeAll
    static void start(PostgresCluster cluster) throws Exception {
        Tenants.create(cluster.shard(1), "hostile", "hostile", "shard1");
        cluster.shard(1).execute("hostile",
                "CREATE FUNCTION iasql_noop() RETURNS text LANGUAGE sql AS $$ SELECT 'ok' $$");
        proxy = TestProxy.start("""
                listen: { host: 127.0.0.1, port: 0 }
                shards:
                  shard1: { host: 127.0.0.1, port: %d, user: postgres }
                routes:
                  hostile: shard1
                rpc: { functions: ["iasql_*"] }
                """.formatted(cluster.shard(1).port()));
    }

    @AfterAll
    static void stop() {
        proxy.close();
    }

    private static byte[] message(char type, byte[] body) {
        return ByteBuffer.allocate(5 + body.length).put((byte) type).putInt(4 + body.length).put(body).array();
    }

    private static byte[] query(String sql) {
        return message('Q', (sql + "\0").getBytes(StandardCharsets.UTF_8));
    }

    private static RawClient loggedIn() throws Exception {
        RawClient client = RawClient.connect(proxy.port());
        client.sendStartup(Map.of("user", "postgres", "database", "hostile"));
        client.readUntil('Z');
        return client;
    }

    /** Reads until the server's FATAL, then expects the connection to close. */
    private static RawClient.Message fatal(RawClient client) throws Exception {
        RawClient.Message error = client.readUntil('E');
        assertThat(error.fields().get('S')).isEqualTo("FATAL");
        assertThat(client.closedByServer()).as("closed after the FATAL").isTrue();
        return error;
    }

    @Test
    void aMalformedQueryQueuedBehindAStitchedRequestIsAFatalError() throws Exception {
        try (RawClient client = loggedIn()) {
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.writeBytes(query("select 1; select iasql_noop(); select 2"));
            // a Query whose text has a NUL inside it, right behind: it waits for the stitched request
            both.writeBytes(message('Q', "select 3\0junk\0".getBytes(StandardCharsets.UTF_8)));
            client.send(both.toByteArray());
            client.readUntil('Z'); // the stitched request is answered first
            assertThat(fatal(client).sqlState()).isEqualTo("08P01");
        }
    }

    @Test
    void aMalformedMessageInTheSameWriteAsTheStartupPacketIsAFatalError() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            ByteArrayOutputStream both = new ByteArrayOutputStream();
            both.writeBytes(RawClient.startupPacket(196608,
                    RawClient.parameters(Map.of("user", "postgres", "database", "hostile"))));
            both.writeBytes(message('Q', "select 3\0junk\0".getBytes(StandardCharsets.UTF_8)));
            client.send(both.toByteArray());
            assertThat(fatal(client).sqlState()).isEqualTo("08P01");
        }
    }

    @Test
    void aHalfClosedClientStillGetsItsAnswer() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", proxy.port()); RawClient client = RawClient.wrap(socket)) {
            client.sendStartup(Map.of("user", "postgres", "database", "hostile"));
            client.readUntil('Z');
            client.send(query("select 'still here'"));
            socket.shutdownOutput();
            RawClient.Message row = client.readUntil('D');
            assertThat(new String(row.body(), StandardCharsets.UTF_8)).contains("still here");
            assertThat(client.readUntil('Z').type()).isEqualTo('Z');
            assertThat(client.closedByServer()).as("then the session ends").isTrue();
        }
    }

    /** Two Describes in a row are two messages (the decoder once coalesced them like DataRows). */
    @Test
    void twoDescribesOfAnRpcStatementGetTwoAnswers() throws Exception {
        try (RawClient client = loggedIn()) {
            ByteArrayOutputStream batch = new ByteArrayOutputStream();
            batch.writeBytes(message('P', "s\0select iasql_noop()\0\0\0".getBytes(StandardCharsets.UTF_8)));
            batch.writeBytes(message('D', "Ss\0".getBytes(StandardCharsets.UTF_8)));
            batch.writeBytes(message('D', "Ss\0".getBytes(StandardCharsets.UTF_8)));
            batch.writeBytes(message('S', new byte[0]));
            client.send(batch.toByteArray());
            StringBuilder types = new StringBuilder();
            RawClient.Message answer;
            do {
                answer = client.read();
                types.append(answer.type());
            } while (answer.type() != 'Z');
            assertThat(types.toString()).isEqualTo("1tTtTZ");
        }
    }

    @Test
    void aSecondGssEncRequestIsRefusedAsPostgreSqlDoes() throws Exception {
        try (RawClient client = RawClient.connect(proxy.port())) {
            byte[] gss = ByteBuffer.allocate(8).putInt(8).putInt(80877104).array();
            client.send(gss);
            assertThat(client.readByte()).isEqualTo('N');
            client.send(gss);
            RawClient.Message error = fatal(client);
            assertThat(error.sqlState()).isEqualTo("0A000");
            assertThat(error.message()).contains("unsupported frontend protocol 1234.5680");
        }
    }
}
