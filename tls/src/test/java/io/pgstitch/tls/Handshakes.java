package io.pgstitch.tls;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;

/** Full TLS handshakes between two in-memory engines: no sockets, no threads. */
final class Handshakes {

    private Handshakes() {
    }

    /**
     * Runs the handshake to completion; whichever side refuses throws its SSLException.
     *
     * @return the protocol agreed, e.g. "TLSv1.3"
     */
    static String run(SSLEngine client, SSLEngine server) throws SSLException {
        client.setUseClientMode(true);
        server.setUseClientMode(false);
        ByteBuffer toServer = ByteBuffer.allocate(64 * 1024);
        ByteBuffer toClient = ByteBuffer.allocate(64 * 1024);
        ByteBuffer scratch = ByteBuffer.allocate(64 * 1024);
        client.beginHandshake();
        server.beginHandshake();
        for (int round = 0; round < 200 && !(done(client) && done(server)); round++) {
            step(client, toClient, toServer, scratch);
            step(server, toServer, toClient, scratch);
        }
        assertThat(done(client) && done(server)).as("handshake completed").isTrue();
        return client.getSession().getProtocol();
    }

    private static boolean done(SSLEngine engine) {
        SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
        return status == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
                || status == SSLEngineResult.HandshakeStatus.FINISHED;
    }

    private static void step(SSLEngine engine, ByteBuffer incoming, ByteBuffer outgoing, ByteBuffer scratch)
            throws SSLException {
        incoming.flip();
        engine.unwrap(incoming, scratch.clear());
        incoming.compact();
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
        engine.wrap(ByteBuffer.allocate(0), outgoing);
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }
}
