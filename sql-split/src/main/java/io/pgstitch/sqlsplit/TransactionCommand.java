package io.pgstitch.sqlsplit;

/** The transaction-control statements, as far as a proxy needs to tell them apart. */
public enum TransactionCommand {
    /** BEGIN, START TRANSACTION. */
    BEGIN,
    /** COMMIT, END. */
    COMMIT,
    /** ROLLBACK, ABORT (but not ROLLBACK TO SAVEPOINT). */
    ROLLBACK,
    SAVEPOINT,
    RELEASE_SAVEPOINT,
    ROLLBACK_TO_SAVEPOINT,
    PREPARE_TRANSACTION,
    COMMIT_PREPARED,
    ROLLBACK_PREPARED;

    public boolean opensTransaction() {
        return this == BEGIN;
    }

    /** Whether the transaction block is over afterwards (committed, rolled back or prepared). */
    public boolean endsTransaction() {
        return this == COMMIT || this == ROLLBACK || this == PREPARE_TRANSACTION;
    }
}
