package io.pgstitch.sqlsplit;

import io.pgstitch.sqlsplit.SqlLexer.TokenType;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a query text into statements where PostgreSQL (and psql) would: at semicolons outside parentheses and
 * outside the {@code BEGIN ... END} body of {@code CREATE [OR REPLACE] FUNCTION|PROCEDURE ... BEGIN ATOMIC}.
 * The BEGIN/CASE/END counting is psql's own heuristic (psqlscan.l), so pgstitch splits exactly as psql does.
 * {@code CREATE RULE ... DO (a; b)} stays whole through the parenthesis depth.
 */
final class StatementSplitter {

    /** One statement's span and tokens, before classification. */
    record Piece(int start, int end, Tokens tokens) {
    }

    private StatementSplitter() {
    }

    /**
     * @param sql    the text to lex: {@code source}, or its masked copy of the same length
     * @param source the text as given, from which identifiers are decoded in {@code encoding}
     */
    static List<Piece> split(String sql, String source, ClientEncoding encoding, boolean standardConformingStrings) {
        List<Piece> pieces = new ArrayList<>();
        State state = new State(sql, source, encoding);
        SqlLexer.scan(sql, standardConformingStrings, (type, start, end) -> {
            if (type == TokenType.SEMICOLON && state.parenDepth <= 0 && state.beginDepth <= 0) {
                state.finish(pieces, end);
            } else {
                state.token(type, start, end);
            }
            return true;
        });
        int end = sql.length();
        while (end > state.statementStart && SqlLexer.isWhitespace(sql.charAt(end - 1))) {
            end--;
        }
        state.finish(pieces, end);
        return pieces;
    }

    private static final class State {
        private final String sql;
        private final String source;
        private final ClientEncoding encoding;
        private int statementStart;
        private Tokens tokens;
        private int parenDepth;
        private int beginDepth;
        /** First letters of the first words when they are CREATE, OR, REPLACE, FUNCTION, PROCEDURE (psql's trick). */
        private final char[] leading = new char[4];
        private int wordCount;

        State(String sql, String source, ClientEncoding encoding) {
            this.sql = sql;
            this.source = source;
            this.encoding = encoding;
            reset(0);
        }

        void token(TokenType type, int start, int end) {
            tokens.add(type, start, end);
            switch (type) {
                case OPEN_PAREN -> parenDepth++;
                case CLOSE_PAREN -> parenDepth--;
                case WORD -> word(start, end);
                default -> {
                }
            }
        }

        private void word(int start, int end) {
            if (wordCount < leading.length && (is(start, end, "create") || is(start, end, "or")
                    || is(start, end, "replace") || is(start, end, "function") || is(start, end, "procedure"))) {
                leading[wordCount] = Character.toLowerCase(sql.charAt(start));
            }
            wordCount++;
            boolean inRoutineDefinition = leading[0] == 'c' && (leading[1] == 'f' || leading[1] == 'p'
                    || (leading[1] == 'o' && leading[2] == 'r' && (leading[3] == 'f' || leading[3] == 'p')));
            if (!inRoutineDefinition || parenDepth != 0) {
                return;
            }
            if (is(start, end, "begin")) {
                beginDepth++;
            } else if (is(start, end, "case")) {
                if (beginDepth >= 1) { // CASE ... END inside a body; outside one it cannot matter
                    beginDepth++;
                }
            } else if (is(start, end, "end") && beginDepth > 0) {
                beginDepth--;
            }
        }

        private boolean is(int start, int end, String word) {
            return end - start == word.length() && sql.regionMatches(true, start, word, 0, word.length());
        }

        /** Ends the current statement at {@code end}; a statement without tokens (only ;) is dropped. */
        void finish(List<Piece> pieces, int end) {
            if (tokens.size() > 0) {
                pieces.add(new Piece(statementStart, end, tokens));
            }
            reset(end);
        }

        private void reset(int end) {
            int next = end;
            while (next < sql.length() && SqlLexer.isWhitespace(sql.charAt(next))) {
                next++;
            }
            statementStart = next;
            tokens = new Tokens(sql, source, encoding);
            parenDepth = 0;
            beginDepth = 0;
            wordCount = 0;
            java.util.Arrays.fill(leading, (char) 0);
        }
    }
}
