package io.pgstitch.proxy.admin.console;

import io.pgstitch.proxy.admin.Table;

/** What one console command answers, before it is encoded. */
sealed interface ConsoleReply {

    /** A result set, ended by CommandComplete {@code SHOW}. */
    record Rows(Table table) implements ConsoleReply {
    }

    /** A command without rows: CommandComplete with {@code tag} (RELOAD, PAUSE, ...). */
    record Done(String tag) implements ConsoleReply {
    }

    /** A NoticeResponse, then CommandComplete {@code tag} (SHOW HELP). */
    record Notice(String message, String detail, String tag) implements ConsoleReply {
    }

    /** An empty query string: EmptyQueryResponse. */
    record Empty() implements ConsoleReply {
    }
}
