package io.pgstitch.proxy.admin.console;

import io.netty.channel.ChannelHandler;
import io.pgstitch.protocol.PgException;
import io.pgstitch.proxy.admin.AdminService;
import io.pgstitch.proxy.frontend.Console;
import io.pgstitch.proxy.frontend.ConsoleClient;

import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The SQL admin console: database {@code pgstitch} on the proxy's own port, and {@code pgbouncer} too (as PgCat's
 * console does), because tools written for PgBouncer hard-code that name. Only the users in {@code admin.users}
 * get in, after authenticating like any client; everyone else gets FATAL 28000.
 */
public final class AdminConsole implements Console {

    static final Set<String> DATABASES = Set.of("pgstitch", "pgbouncer");
    private static final String INVALID_AUTHORIZATION = "28000";

    private final AdminService admin;
    private final Supplier<List<String>> adminUsers;
    private final ConsoleCommands commands;

    public AdminConsole(AdminService admin, Supplier<List<String>> adminUsers) {
        this.admin = admin;
        this.adminUsers = adminUsers;
        this.commands = new ConsoleCommands(admin);
    }

    @Override
    public boolean serves(String databaseId) {
        return DATABASES.contains(databaseId);
    }

    @Override
    public ChannelHandler open(ConsoleClient client) {
        if (!adminUsers.get().contains(client.userName())) {
            throw PgException.fatal(INVALID_AUTHORIZATION, "user \"" + client.userName()
                    + "\" may not use the admin console (database \"" + client.database() + "\")")
                    .withHint("Admin console users are listed in admin.users.");
        }
        return new ConsoleSession(client, commands, admin);
    }
}
