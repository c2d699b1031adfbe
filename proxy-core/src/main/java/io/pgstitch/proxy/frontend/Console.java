package io.pgstitch.proxy.frontend;

import io.netty.channel.ChannelHandler;

/**
 * The admin console, as the client pipeline reaches it: an authenticated client whose database ID the console
 * {@link #serves} is handed over to the console's handler instead of being routed to a shard.
 */
public interface Console {

    /** Whether {@code databaseId} is the console's ({@code pgstitch}, and {@code pgbouncer} for PgBouncer's tools). */
    boolean serves(String databaseId);

    /**
     * The handler that takes over the client's pipeline; it tells the client it is logged in.
     *
     * @throws io.pgstitch.protocol.PgException FATAL 28000 for a user not in {@code admin.users}
     */
    ChannelHandler open(ConsoleClient client);

    /** No console: every database ID goes to routing. */
    Console NONE = new Console() {
        @Override
        public boolean serves(String databaseId) {
            return false;
        }

        @Override
        public ChannelHandler open(ConsoleClient client) {
            throw new IllegalStateException("no admin console");
        }
    };
}
