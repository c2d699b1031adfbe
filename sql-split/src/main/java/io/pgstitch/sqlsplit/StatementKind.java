package io.pgstitch.sqlsplit;

import java.util.Locale;

/** What a statement does, decided from its leading keywords. */
public enum StatementKind {
    SELECT, INSERT, UPDATE, DELETE, MERGE, DDL, TRANSACTION_CONTROL, SET, RESET, SHOW, LISTEN, UNLISTEN, NOTIFY,
    COPY, PREPARE, EXECUTE, DEALLOCATE, DISCARD, DO, CALL,
    /** DECLARE ... CURSOR. */
    DECLARE,
    /** FETCH and MOVE: both read a cursor by name. */
    FETCH,
    /** CLOSE of a cursor (or of all cursors). */
    CLOSE,
    OTHER;

    /** The name used by {@code explain-split} and its JSON: lower case, '_' kept. */
    public String jsonName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean isTransactionControl() {
        return this == TRANSACTION_CONTROL;
    }
}
