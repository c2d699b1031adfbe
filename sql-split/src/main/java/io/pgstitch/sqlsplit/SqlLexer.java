package io.pgstitch.sqlsplit;

/**
 * PostgreSQL's lexical rules (scan.l), reduced to what splitting and call detection need: where strings,
 * quoted identifiers, dollar quotes and comments begin and end, and which tokens are words, parentheses and
 * semicolons. Comments and whitespace produce no tokens. It never throws and never allocates: an unterminated
 * string, comment or dollar quote runs to the end of the text, and the server reports its own syntax error.
 *
 * <p>Offsets are {@code char} indexes into the text, which is either a Java string or a client's bytes, one
 * char per byte (see {@link ClientEncoding}): every char from 0x80 up is an identifier character, as every
 * byte from 0x80 up is in scan.l.
 */
public final class SqlLexer {

    public enum TokenType {
        /** An unquoted identifier or keyword; PostgreSQL folds it to lower case. */
        WORD,
        /** {@code "..."} or {@code U&"..."}: exact case. */
        QUOTED_IDENTIFIER,
        /** {@code '...'}, {@code E'...'}, {@code B'...'}, {@code X'...'}, {@code N'...'}, {@code U&'...'}, dollar quotes. */
        STRING,
        /** {@code $1}: a parameter, not a dollar quote. */
        PARAMETER,
        NUMBER,
        OPERATOR,
        OPEN_PAREN,
        CLOSE_PAREN,
        SEMICOLON,
        COMMA,
        DOT,
        OTHER
    }

    /** Receives tokens in order; returns false to stop the scan early. */
    @FunctionalInterface
    public interface TokenSink {
        boolean token(TokenType type, int start, int end);
    }

    private static final String OPERATOR_CHARS = "+-*/<>=~!@#%^&|`?:";

    private SqlLexer() {
    }

    /**
     * Scans {@code sql[from, to)}.
     *
     * @param standardConformingStrings PostgreSQL's setting: when off, backslash escapes in plain '...' too
     */
    public static void scan(String sql, int from, int to, boolean standardConformingStrings, TokenSink sink) {
        int i = from;
        while (i < to) {
            char c = sql.charAt(i);
            int end;
            TokenType type;
            if (isWhitespace(c)) {
                i++;
                continue;
            } else if (c == '-' && i + 1 < to && sql.charAt(i + 1) == '-') {
                i = skipLineComment(sql, i, to);
                continue;
            } else if (c == '/' && i + 1 < to && sql.charAt(i + 1) == '*') {
                i = skipBlockComment(sql, i, to);
                continue;
            } else if (c == '\'') {
                end = skipQuoted(sql, i + 1, to, '\'', !standardConformingStrings);
                type = TokenType.STRING;
            } else if (c == '"') {
                end = skipQuoted(sql, i + 1, to, '"', false);
                type = TokenType.QUOTED_IDENTIFIER;
            } else if (c == '$') {
                if (i + 1 < to && isDigit(sql.charAt(i + 1))) {
                    end = skipDigits(sql, i + 1, to);
                    type = TokenType.PARAMETER;
                } else {
                    int tagEnd = dollarTagEnd(sql, i, to);
                    if (tagEnd > 0) {
                        end = skipDollarQuoted(sql, i, tagEnd, to);
                        type = TokenType.STRING;
                    } else {
                        end = i + 1;
                        type = TokenType.OTHER;
                    }
                }
            } else if (isIdentifierStart(c)) {
                char next = i + 1 < to ? sql.charAt(i + 1) : 0;
                if (next == '\'' && (c == 'E' || c == 'e')) {
                    end = skipQuoted(sql, i + 2, to, '\'', true);
                    type = TokenType.STRING;
                } else if (next == '\'' && "BbXxNn".indexOf(c) >= 0) {
                    // bit strings never hold a quote; N'...' follows the plain-string rules
                    end = skipQuoted(sql, i + 2, to, '\'', !standardConformingStrings && (c == 'N' || c == 'n'));
                    type = TokenType.STRING;
                } else if ((c == 'U' || c == 'u') && next == '&' && i + 2 < to
                        && (sql.charAt(i + 2) == '\'' || sql.charAt(i + 2) == '"')) {
                    char quote = sql.charAt(i + 2);
                    end = skipQuoted(sql, i + 3, to, quote, false);
                    type = quote == '"' ? TokenType.QUOTED_IDENTIFIER : TokenType.STRING;
                } else {
                    end = i + 1;
                    while (end < to && isIdentifierPart(sql.charAt(end))) {
                        end++;
                    }
                    type = TokenType.WORD;
                }
            } else if (isDigit(c) || (c == '.' && i + 1 < to && isDigit(sql.charAt(i + 1)))) {
                end = i + 1;
                while (end < to && (isIdentifierPart(sql.charAt(end)) || sql.charAt(end) == '.')
                        && !(sql.charAt(end) == '.' && end + 1 < to && sql.charAt(end + 1) == '.')) {
                    char d = sql.charAt(end);
                    if ((d == 'e' || d == 'E') && end + 1 < to && (sql.charAt(end + 1) == '+' || sql.charAt(end + 1) == '-')) {
                        end++; // exponent sign
                    }
                    end++;
                }
                type = TokenType.NUMBER;
            } else if (c == '(') {
                end = i + 1;
                type = TokenType.OPEN_PAREN;
            } else if (c == ')') {
                end = i + 1;
                type = TokenType.CLOSE_PAREN;
            } else if (c == ';') {
                end = i + 1;
                type = TokenType.SEMICOLON;
            } else if (c == ',') {
                end = i + 1;
                type = TokenType.COMMA;
            } else if (c == '.') {
                end = i + 1;
                type = TokenType.DOT;
            } else if (OPERATOR_CHARS.indexOf(c) >= 0) {
                end = i + 1;
                // an operator never contains the start of a comment: "--" or "/*" end it
                while (end < to && OPERATOR_CHARS.indexOf(sql.charAt(end)) >= 0
                        && !(sql.charAt(end) == '-' && end + 1 < to && sql.charAt(end + 1) == '-')
                        && !(sql.charAt(end) == '/' && end + 1 < to && sql.charAt(end + 1) == '*')) {
                    end++;
                }
                type = TokenType.OPERATOR;
            } else {
                end = i + 1;
                type = TokenType.OTHER;
            }
            if (!sink.token(type, i, end)) {
                return;
            }
            i = end;
        }
    }

    public static void scan(String sql, boolean standardConformingStrings, TokenSink sink) {
        scan(sql, 0, sql.length(), standardConformingStrings, sink);
    }

    static boolean isWhitespace(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0x0B;
    }

    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** scan.l's ident_start: letters, underscore, and every non-ASCII character. */
    static boolean isIdentifierStart(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
    }

    /** scan.l's ident_cont: ident_start, digits and '$'. */
    static boolean isIdentifierPart(char c) {
        return isIdentifierStart(c) || isDigit(c) || c == '$';
    }

    private static int skipDigits(String sql, int i, int to) {
        while (i < to && isDigit(sql.charAt(i))) {
            i++;
        }
        return i;
    }

    private static int skipLineComment(String sql, int i, int to) {
        while (i < to && sql.charAt(i) != '\n' && sql.charAt(i) != '\r') {
            i++;
        }
        return i;
    }

    /** Block comments nest in PostgreSQL, unlike the SQL standard. */
    private static int skipBlockComment(String sql, int i, int to) {
        int depth = 0;
        while (i < to) {
            if (sql.charAt(i) == '/' && i + 1 < to && sql.charAt(i + 1) == '*') {
                depth++;
                i += 2;
            } else if (sql.charAt(i) == '*' && i + 1 < to && sql.charAt(i + 1) == '/') {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return to;
    }

    /** From just after the opening quote to just after the closing one; a doubled quote is part of the text. */
    private static int skipQuoted(String sql, int i, int to, char quote, boolean backslashEscapes) {
        while (i < to) {
            char c = sql.charAt(i);
            if (c == '\\' && backslashEscapes) {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < to && sql.charAt(i + 1) == quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return to;
    }

    /** The index just after the opening {@code $tag$} at {@code i}, or -1 when {@code $} starts none. */
    private static int dollarTagEnd(String sql, int i, int to) {
        int j = i + 1;
        if (j < to && sql.charAt(j) == '$') {
            return j + 1;
        }
        if (j >= to || !isIdentifierStart(sql.charAt(j))) {
            return -1;
        }
        while (j < to && isIdentifierPart(sql.charAt(j)) && sql.charAt(j) != '$') {
            j++;
        }
        return j < to && sql.charAt(j) == '$' ? j + 1 : -1;
    }

    private static int skipDollarQuoted(String sql, int start, int tagEnd, int to) {
        int tagLength = tagEnd - start;
        for (int i = tagEnd; i + tagLength <= to; i++) {
            if (sql.charAt(i) == '$' && sql.regionMatches(i, sql, start, tagLength)) {
                return i + tagLength;
            }
        }
        return to;
    }
}
