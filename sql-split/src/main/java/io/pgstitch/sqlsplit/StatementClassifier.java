package io.pgstitch.sqlsplit;

import io.pgstitch.sqlsplit.SqlLexer.TokenType;

import java.util.Set;

/** Decides a statement's kind from its leading keywords, the way a proxy needs it. */
final class StatementClassifier {

    record Classification(StatementKind kind, TransactionCommand transaction) {
    }

    private static final Set<String> DDL = Set.of("CREATE", "ALTER", "DROP", "TRUNCATE", "COMMENT", "GRANT", "REVOKE",
            "REINDEX", "REFRESH", "SECURITY", "IMPORT", "CLUSTER");

    private StatementClassifier() {
    }

    static Classification classify(Tokens tokens) {
        int first = 0;
        while (tokens.type(first) == TokenType.OPEN_PAREN) {
            first++; // (SELECT ...) UNION ...
        }
        String keyword = tokens.keyword(first);
        String second = tokens.keyword(first + 1);
        return switch (keyword) {
            case "SELECT", "VALUES", "TABLE" -> of(StatementKind.SELECT);
            case "WITH" -> withKind(tokens, first + 1);
            case "INSERT" -> of(StatementKind.INSERT);
            case "UPDATE" -> of(StatementKind.UPDATE);
            case "DELETE" -> of(StatementKind.DELETE);
            case "MERGE" -> of(StatementKind.MERGE);
            case "BEGIN", "START" -> transaction(TransactionCommand.BEGIN);
            case "COMMIT", "END" -> transaction(second.equals("PREPARED") ? TransactionCommand.COMMIT_PREPARED
                    : TransactionCommand.COMMIT);
            case "ROLLBACK", "ABORT" -> transaction(rollback(tokens, first + 1, second));
            case "SAVEPOINT" -> transaction(TransactionCommand.SAVEPOINT);
            case "RELEASE" -> transaction(TransactionCommand.RELEASE_SAVEPOINT);
            case "PREPARE" -> second.equals("TRANSACTION") ? transaction(TransactionCommand.PREPARE_TRANSACTION)
                    : of(StatementKind.PREPARE);
            case "SET" -> of(StatementKind.SET);
            case "RESET" -> of(StatementKind.RESET);
            case "SHOW" -> of(StatementKind.SHOW);
            case "LISTEN" -> of(StatementKind.LISTEN);
            case "UNLISTEN" -> of(StatementKind.UNLISTEN);
            case "NOTIFY" -> of(StatementKind.NOTIFY);
            case "COPY" -> of(StatementKind.COPY);
            case "EXECUTE" -> of(StatementKind.EXECUTE);
            case "DEALLOCATE" -> of(StatementKind.DEALLOCATE);
            case "DISCARD" -> of(StatementKind.DISCARD);
            case "DO" -> of(StatementKind.DO);
            case "CALL" -> of(StatementKind.CALL);
            default -> DDL.contains(keyword) ? of(StatementKind.DDL) : of(StatementKind.OTHER);
        };
    }

    private static TransactionCommand rollback(Tokens tokens, int next, String second) {
        if (second.equals("PREPARED")) {
            return TransactionCommand.ROLLBACK_PREPARED;
        }
        // ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name
        int i = second.equals("WORK") || second.equals("TRANSACTION") ? next + 1 : next;
        return tokens.isWord(i, "to") ? TransactionCommand.ROLLBACK_TO_SAVEPOINT : TransactionCommand.ROLLBACK;
    }

    /** WITH ... the kind of the main statement: the first SELECT/INSERT/... outside the CTE parentheses. */
    private static Classification withKind(Tokens tokens, int from) {
        int depth = 0;
        for (int i = from; i < tokens.size(); i++) {
            TokenType type = tokens.type(i);
            if (type == TokenType.OPEN_PAREN) {
                depth++;
            } else if (type == TokenType.CLOSE_PAREN) {
                depth--;
            } else if (depth == 0 && type == TokenType.WORD) {
                switch (tokens.keyword(i)) {
                    case "SELECT", "VALUES", "TABLE" -> {
                        return of(StatementKind.SELECT);
                    }
                    case "INSERT" -> {
                        return of(StatementKind.INSERT);
                    }
                    case "UPDATE" -> {
                        return of(StatementKind.UPDATE);
                    }
                    case "DELETE" -> {
                        return of(StatementKind.DELETE);
                    }
                    case "MERGE" -> {
                        return of(StatementKind.MERGE);
                    }
                    default -> {
                    }
                }
            }
        }
        return of(StatementKind.OTHER);
    }

    private static Classification of(StatementKind kind) {
        return new Classification(kind, null);
    }

    private static Classification transaction(TransactionCommand command) {
        return new Classification(StatementKind.TRANSACTION_CONTROL, command);
    }
}
