package io.pgstitch.sqlsplit;

import io.pgstitch.sqlsplit.SqlLexer.TokenType;

import java.util.Arrays;
import java.util.Locale;

/**
 * The tokens of one statement, in growable parallel arrays, with the helpers the classifier needs. Keywords
 * are read from the text the lexer scanned; identifiers are decoded from the original text in its encoding.
 */
final class Tokens {

    /** What the lexer scanned: the text, or its masked copy (see {@link ClientEncoding#lexable}). */
    private final String sql;
    private final String source;
    private final ClientEncoding encoding;
    private TokenType[] types = new TokenType[16];
    private int[] starts = new int[16];
    private int[] ends = new int[16];
    private int size;

    Tokens(String sql, String source, ClientEncoding encoding) {
        this.sql = sql;
        this.source = source;
        this.encoding = encoding;
    }

    void add(TokenType type, int start, int end) {
        if (size == types.length) {
            types = Arrays.copyOf(types, size * 2);
            starts = Arrays.copyOf(starts, size * 2);
            ends = Arrays.copyOf(ends, size * 2);
        }
        types[size] = type;
        starts[size] = start;
        ends[size] = end;
        size++;
    }

    int size() {
        return size;
    }

    TokenType type(int i) {
        return i >= 0 && i < size ? types[i] : null;
    }

    int start(int i) {
        return starts[i];
    }

    int end(int i) {
        return ends[i];
    }

    /** Whether token i is the unquoted word {@code keyword} (case-insensitive). */
    boolean isWord(int i, String keyword) {
        return type(i) == TokenType.WORD && ends[i] - starts[i] == keyword.length()
                && sql.regionMatches(true, starts[i], keyword, 0, keyword.length());
    }

    /** The upper-cased word at i, or "" when token i is not a word. */
    String keyword(int i) {
        return type(i) == TokenType.WORD ? sql.substring(starts[i], ends[i]).toUpperCase(Locale.ROOT) : "";
    }

    /** An identifier as PostgreSQL resolves it: unquoted folded to lower case, quoted exact; else null. */
    String identifier(int i) {
        if (type(i) == TokenType.WORD) {
            return encoding.decode(source, starts[i], ends[i]).toLowerCase(Locale.ROOT);
        }
        if (type(i) == TokenType.QUOTED_IDENTIFIER && sql.charAt(starts[i]) == '"' && ends[i] - starts[i] >= 2
                && sql.charAt(ends[i] - 1) == '"') {
            return encoding.decode(source, starts[i] + 1, ends[i] - 1).replace("\"\"", "\"");
        }
        return null;
    }
}
