package io.pgstitch.sqlsplit;

import io.pgstitch.sqlsplit.SqlLexer.TokenType;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The lexer's view of RPC calls: a name matching a pattern, optionally schema-qualified, followed by an opening
 * parenthesis (comments and whitespace between are no tokens), and not introduced by a keyword that makes it a
 * definition or a table (CREATE FUNCTION iasql_x(...), INSERT INTO iasql_log (a), ...).
 */
final class RpcCallFinder {

    /** A call the lexer found: the name as PostgreSQL resolves it, and its schema (null when unqualified). */
    record Candidate(String schema, String name) {
    }

    /** Keywords after which "name (" names a routine, table, type or index, not a call. */
    private static final Set<String> NOT_A_CALL_AFTER = Set.of("FUNCTION", "PROCEDURE", "ROUTINE", "AGGREGATE",
            "TABLE", "INTO", "ON", "REFERENCES", "EXISTS", "VIEW", "TYPE", "INDEX", "SEQUENCE", "DOMAIN", "COPY",
            "TRIGGER", "CONSTRAINT", "COLUMN", "ONLY");

    private RpcCallFinder() {
    }

    static List<Candidate> find(Tokens tokens, RpcFunctionMatcher matcher) {
        List<Candidate> candidates = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (tokens.type(i + 1) != TokenType.OPEN_PAREN) {
                continue;
            }
            String name = tokens.identifier(i);
            if (name == null) {
                continue;
            }
            String schema = null;
            int nameStart = i;
            if (tokens.type(i - 1) == TokenType.DOT && tokens.identifier(i - 2) != null) {
                schema = tokens.identifier(i - 2);
                nameStart = i - 2;
            }
            if (!matcher.matches(schema, name) || NOT_A_CALL_AFTER.contains(tokens.keyword(nameStart - 1))) {
                continue;
            }
            candidates.add(new Candidate(schema, name));
        }
        return candidates;
    }
}
