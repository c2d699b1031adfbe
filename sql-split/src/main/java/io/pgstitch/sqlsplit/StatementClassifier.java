package io.pgstitch.sqlsplit;

import io.pgstitch.sqlsplit.SqlLexer.TokenType;

import java.util.Locale;
import java.util.Set;

/** Decides a statement's kind from its leading keywords, the way a proxy needs it. */
final class StatementClassifier {

    record Classification(StatementKind kind, TransactionCommand transaction) {
    }

    /** Functions whose effect stays in the session that calls them. */
    private static final Set<String> SESSION_FUNCTIONS = Set.of("set_config", "pg_advisory_lock",
            "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared");

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
            case "DECLARE" -> of(StatementKind.DECLARE);
            case "FETCH", "MOVE" -> of(StatementKind.FETCH);
            case "CLOSE" -> of(StatementKind.CLOSE);
            default -> DDL.contains(keyword) ? of(StatementKind.DDL) : of(StatementKind.OTHER);
        };
    }

    /**
     * The cursor or prepared statement a statement of {@code kind} names (see {@link SqlStatement#name()}): the
     * word after DECLARE, CLOSE, PREPARE, EXECUTE, DEALLOCATE [PREPARE]; the last word of FETCH and MOVE, whose
     * direction comes first; for DISCARD, what it discards, lower-cased ({@code all}, {@code plans}, ...); the
     * savepoint of SAVEPOINT, RELEASE [SAVEPOINT] and ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT].
     */
    static String name(StatementKind kind, TransactionCommand transaction, Tokens tokens) {
        if (transaction == TransactionCommand.SAVEPOINT || transaction == TransactionCommand.RELEASE_SAVEPOINT
                || transaction == TransactionCommand.ROLLBACK_TO_SAVEPOINT) {
            return tokens.identifier(tokens.size() - 1); // the name ends each of them
        }
        return switch (kind) {
            case DECLARE, PREPARE, EXECUTE -> tokens.identifier(1);
            case FETCH -> tokens.identifier(tokens.size() - 1);
            case CLOSE -> tokens.keyword(1).equals("ALL") ? null : tokens.identifier(1);
            case DISCARD -> tokens.keyword(1).toLowerCase(Locale.ROOT);
            case SET, RESET -> setting(kind, tokens);
            case DEALLOCATE -> {
                int i = tokens.keyword(1).equals("PREPARE") ? 2 : 1;
                yield tokens.keyword(i).equals("ALL") ? null : tokens.identifier(i);
            }
            default -> null;
        };
    }

    /**
     * The run-time parameter a SET or RESET names, as PostgreSQL spells it in pg_settings (lower case, a
     * qualified placeholder with its dot): {@code SET [SESSION | LOCAL] name ...}, {@code SET TIME ZONE} (timezone),
     * {@code SET SCHEMA} (search_path), {@code SET NAMES} (client_encoding), {@code SET SESSION AUTHORIZATION}
     * (session_authorization), {@code RESET ALL} (all); {@code transaction} for SET TRANSACTION and SET SESSION
     * CHARACTERISTICS, which set no session parameter by name.
     */
    private static String setting(StatementKind kind, Tokens tokens) {
        int i = 1;
        if (kind == StatementKind.SET && (tokens.isWord(1, "session") || tokens.isWord(1, "local"))) {
            if (tokens.isWord(1, "session") && tokens.isWord(2, "authorization")) {
                return "session_authorization";
            }
            if (tokens.isWord(1, "session") && tokens.isWord(2, "characteristics")) {
                return "transaction";
            }
            i = 2;
        }
        if (kind == StatementKind.SET) {
            if (tokens.isWord(i, "time") && tokens.isWord(i + 1, "zone")) {
                return "timezone";
            }
            if (tokens.isWord(i, "schema")) {
                return "search_path";
            }
            if (tokens.isWord(i, "names")) {
                return "client_encoding";
            }
        }
        String name = tokens.identifier(i);
        if (name == null) {
            return null;
        }
        for (int dot = i + 1; tokens.type(dot) == TokenType.DOT && tokens.identifier(dot + 1) != null; dot += 2) {
            name = name + "." + tokens.identifier(dot + 1); // a placeholder may have several: SET a.b.c = 1
        }
        // GUC names are case-insensitive (guc.c, guc_name_compare), quoted or not: fold to pg_settings' spelling
        return name.toLowerCase(Locale.ROOT);
    }

    /**
     * What a statement leaves in the session that a run on another connection would lose (see
     * {@link SqlStatement#sessionEffect()}), or null: a temporary table or view ({@code CREATE TEMP ...},
     * {@code SELECT ... INTO TEMP}), a cursor WITH HOLD, a call of set_config or of a session advisory lock.
     */
    static String sessionEffect(StatementKind kind, Tokens tokens) {
        if (kind == StatementKind.DDL && tokens.keyword(0).equals("CREATE")) {
            int i = tokens.keyword(1).equals("GLOBAL") || tokens.keyword(1).equals("LOCAL") ? 2 : 1;
            if (tokens.keyword(i).equals("TEMP") || tokens.keyword(i).equals("TEMPORARY")) {
                return tokens.keyword(i + 1).equals("TABLE") ? "creates a temporary table"
                        : "creates a temporary object";
            }
        }
        int depth = 0;
        for (int i = 0; i < tokens.size(); i++) {
            TokenType type = tokens.type(i);
            if (type == TokenType.OPEN_PAREN) {
                depth++;
            } else if (type == TokenType.CLOSE_PAREN) {
                depth--;
            } else if (depth == 0 && kind == StatementKind.SELECT && tokens.isWord(i, "into")
                    && temporaryTableName(tokens, i + 1)) {
                return "creates a temporary table";
            } else if (depth == 0 && kind == StatementKind.DECLARE && tokens.isWord(i, "with")
                    && tokens.isWord(i + 1, "hold")) {
                return "declares a cursor WITH HOLD";
            }
            String function = tokens.type(i + 1) == TokenType.OPEN_PAREN ? tokens.identifier(i) : null;
            if (function != null && SESSION_FUNCTIONS.contains(function)) {
                return "calls " + function;
            }
        }
        return null;
    }

    /**
     * The prepared statement a statement runs (see {@link SqlStatement#executes()}): the word after EXECUTE in
     * {@code EXECUTE q}, in {@code EXPLAIN [ANALYZE] [VERBOSE] [(options)] EXECUTE q}, and after {@code AS EXECUTE}
     * in {@code CREATE [TEMP] TABLE t AS EXECUTE q}; null for anything else.
     */
    static String executes(StatementKind kind, Tokens tokens) {
        if (kind == StatementKind.EXECUTE) {
            return tokens.identifier(1);
        }
        if (tokens.keyword(0).equals("EXPLAIN")) {
            int i = 1;
            if (tokens.type(i) == TokenType.OPEN_PAREN) {
                while (i < tokens.size() && tokens.type(i) != TokenType.CLOSE_PAREN) {
                    i++;
                }
                i++;
            }
            while (Set.of("ANALYZE", "ANALYSE", "VERBOSE").contains(tokens.keyword(i))) {
                i++;
            }
            return tokens.keyword(i).equals("EXECUTE") ? tokens.identifier(i + 1) : null;
        }
        if (kind == StatementKind.DDL && tokens.keyword(0).equals("CREATE")) {
            int depth = 0;
            for (int i = 1; i < tokens.size(); i++) {
                TokenType type = tokens.type(i);
                depth += type == TokenType.OPEN_PAREN ? 1 : type == TokenType.CLOSE_PAREN ? -1 : 0;
                if (depth == 0 && tokens.isWord(i, "as") && tokens.isWord(i + 1, "execute")) {
                    return tokens.identifier(i + 2);
                }
            }
        }
        return null;
    }

    /** SELECT ... INTO {TEMPORARY | TEMP | LOCAL TEMP | GLOBAL TEMP ...} name, from the word after INTO. */
    private static boolean temporaryTableName(Tokens tokens, int i) {
        String word = tokens.keyword(i);
        if (word.equals("LOCAL") || word.equals("GLOBAL")) {
            word = tokens.keyword(i + 1);
        }
        return word.equals("TEMP") || word.equals("TEMPORARY");
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
