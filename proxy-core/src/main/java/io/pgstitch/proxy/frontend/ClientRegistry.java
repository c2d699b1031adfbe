package io.pgstitch.proxy.frontend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live clients, from their startup packet until they leave, by id: what SHOW CLIENTS, the HTTP API's
 * {@code /api/v1/clients}, KILL and PAUSE look at. A client adds and removes itself; nothing else holds it.
 */
public final class ClientRegistry {

    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, LiveClient> clients = new ConcurrentHashMap<>();

    long nextId() {
        return ids.incrementAndGet();
    }

    void add(LiveClient client) {
        clients.put(client.id(), client);
    }

    void remove(LiveClient client) {
        clients.remove(client.id(), client);
    }

    public Optional<LiveClient> find(long id) {
        return Optional.ofNullable(clients.get(id));
    }

    /** Every live client, oldest first. */
    public List<LiveClient> all() {
        List<LiveClient> all = new ArrayList<>(clients.values());
        all.sort(Comparator.comparingLong(LiveClient::id));
        return all;
    }

    public int size() {
        return clients.size();
    }
}
