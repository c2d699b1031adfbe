package io.pgstitch.proxy.admin.console;

import io.pgstitch.proxy.admin.AdminException;
import io.pgstitch.proxy.admin.AdminService;
import io.pgstitch.proxy.admin.AdminViews;
import io.pgstitch.proxy.admin.Table;

import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The console's commands, PgBouncer's spelling: {@code SHOW HELP|VERSION|CONFIG|DATABASES|SHARDS|POOLS|CLIENTS|
 * SERVERS|STATS|RPC|LISTS}, {@code RELOAD}, {@code PAUSE [db]}, {@code RESUME [db]}, {@code KILL db},
 * {@code RECONNECT [db]}, {@code SHUTDOWN}; case-insensitive, an optional trailing semicolon, database names bare or
 * double-quoted. Each runs through the {@link AdminService}; the answer completes off the event loop.
 */
final class ConsoleCommands {

    static final String HELP = """
            SHOW HELP|VERSION|CONFIG|DATABASES|SHARDS|POOLS|CLIENTS|SERVERS|STATS|RPC|LISTS
            RELOAD
            PAUSE [<db>]
            RESUME [<db>]
            KILL <db>
            RECONNECT [<db>]
            SHUTDOWN""";

    private static final java.util.regex.Pattern SET = java.util.regex.Pattern.compile(
            "(?i)SET\\s+(?:SESSION\\s+)?([a-z_]+)\\s*(?:=|\\s+TO\\s+).*");
    private static final java.util.Set<String> DRIVER_SETTINGS = java.util.Set.of("extra_float_digits",
            "application_name", "client_encoding", "datestyle", "timezone", "search_path", "statement_timeout",
            "client_min_messages");

    private final AdminService admin;

    ConsoleCommands(AdminService admin) {
        this.admin = admin;
    }

    /** Runs one command (one statement of the Query text). */
    CompletableFuture<ConsoleReply> run(String statement) {
        String text = statement.strip();
        if (text.isEmpty()) {
            return CompletableFuture.completedFuture(new ConsoleReply.Empty());
        }
        String[] words = text.split("\\s+");
        String verb = words[0].toUpperCase(Locale.ROOT);
        if (verb.equals("SET")) {
            return set(text);
        }
        String argument = words.length > 1 ? name(words[1]) : null;
        if (words.length > 2 || (words.length > 1 && argument == null)) {
            return CompletableFuture.failedFuture(unknown(text));
        }
        AdminViews views = admin.views();
        return switch (verb) {
            case "SHOW" -> argument == null ? CompletableFuture.failedFuture(unknown(text)) : show(argument, text, views);
            case "RELOAD" -> noArgument(argument, text, () -> admin.reload().thenApply(done -> new ConsoleReply.Done("RELOAD")));
            case "PAUSE" -> admin.pause(argument).thenApply(done -> new ConsoleReply.Done("PAUSE"));
            case "RESUME" -> admin.resume(argument).thenApply(done -> new ConsoleReply.Done("RESUME"));
            case "KILL" -> argument == null ? CompletableFuture.failedFuture(new AdminException(
                    AdminException.Code.UNKNOWN_COMMAND, "KILL needs a database name", "KILL <db>"))
                    : admin.kill(argument).thenApply(done -> new ConsoleReply.Done("KILL"));
            case "RECONNECT" -> admin.reconnect(argument).thenApply(done -> new ConsoleReply.Done("RECONNECT"));
            case "SHUTDOWN" -> noArgument(argument, text,
                    () -> CompletableFuture.completedFuture(new ConsoleReply.Done("SHUTDOWN")));
            default -> CompletableFuture.failedFuture(unknown(text));
        };
    }

    /**
     * {@code SET name = value}: the session settings drivers send as they connect (PgJDBC's extra_float_digits,
     * application_name) are accepted and have no effect; pgstitch's own settings live in its file, so SET of
     * anything else is refused.
     */
    private static CompletableFuture<ConsoleReply> set(String text) {
        java.util.regex.Matcher m = SET.matcher(text);
        if (m.matches() && DRIVER_SETTINGS.contains(m.group(1).toLowerCase(Locale.ROOT))) {
            return CompletableFuture.completedFuture(new ConsoleReply.Done("SET"));
        }
        return CompletableFuture.failedFuture(new AdminException(AdminException.Code.UNKNOWN_COMMAND,
                "SET is not supported by the pgstitch admin console: \"" + text + "\"",
                "Settings are changed in the configuration file, then RELOAD."));
    }

    private CompletableFuture<ConsoleReply> show(String what, String text, AdminViews views) {
        if (what.equalsIgnoreCase("HELP")) {
            return CompletableFuture.completedFuture(new ConsoleReply.Notice("Console usage", HELP, "SHOW"));
        }
        Supplier<Table> table = switch (what.toUpperCase(Locale.ROOT)) {
            case "VERSION" -> () -> Table.of("version").row("pgstitch " + views.version());
            case "CONFIG" -> views::config;
            case "DATABASES" -> views::databases;
            case "SHARDS" -> views::shards;
            case "POOLS" -> views::pools;
            case "CLIENTS" -> views::clients;
            case "SERVERS" -> views::servers;
            case "STATS" -> views::stats;
            case "RPC" -> views::rpc;
            case "LISTS" -> views::lists;
            default -> null;
        };
        if (table == null) {
            return CompletableFuture.failedFuture(unknown(text));
        }
        return admin.submit(() -> new ConsoleReply.Rows(table.get()));
    }

    private static CompletableFuture<ConsoleReply> noArgument(String argument, String text,
                                                              Supplier<CompletableFuture<ConsoleReply>> command) {
        return argument != null ? CompletableFuture.failedFuture(unknown(text)) : command.get();
    }

    /** A database name: bare, or double-quoted with "" for a quote. Null when malformed. */
    private static String name(String word) {
        if (word.length() >= 2 && word.startsWith("\"") && word.endsWith("\"")) {
            String inner = word.substring(1, word.length() - 1);
            return inner.replace("\"\"", "").contains("\"") ? null : inner.replace("\"\"", "\"");
        }
        return word.contains("\"") ? null : word;
    }

    static AdminException unknown(String text) {
        String shown = text.length() > 100 ? text.substring(0, 100) + "..." : text;
        return new AdminException(AdminException.Code.UNKNOWN_COMMAND, "unknown admin console command: \""
                + shown + "\"", "SHOW HELP lists the commands.");
    }
}
