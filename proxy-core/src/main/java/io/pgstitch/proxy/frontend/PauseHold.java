package io.pgstitch.proxy.frontend;

/**
 * PAUSE for one client: its next transaction waits, unread, until RESUME; it is not refused. What it sent
 * meanwhile waits in the relay's queue, and {@code resumed} relays it. Session loop only.
 */
final class PauseHold {

    private final ClientConnection client;
    private final Runnable resumed;
    private boolean held;

    PauseHold(ClientConnection client, Runnable resumed) {
        this.client = client;
        this.resumed = resumed;
    }

    /** Whether a message must wait: the client is held, or it starts a transaction while its database is paused. */
    boolean holds(boolean startsTransaction) {
        return held || (startsTransaction && client.context().pauses().holds(client.databaseId()));
    }

    /** Whether the client is held now. */
    boolean active() {
        return held;
    }

    /** Holds the client (reading stops) until its database is resumed; once per hold. */
    void begin() {
        if (held) {
            return;
        }
        held = true;
        client.channel().config().setAutoRead(false);
        long since = System.nanoTime();
        client.waiting(since);
        Runnable resume = () -> client.channel().eventLoop().execute(() -> {
            held = false;
            if (!client.isClosed()) {
                client.phase(LiveClient.Phase.ACTIVE);
                client.counters().waited(System.nanoTime() - since);
                resumed.run();
            }
        });
        if (!client.context().pauses().whenResumed(client.databaseId(), resume)) {
            resume.run();
        }
    }
}
