package io.pgstitch.sqlsplit;

import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.util.TablesNamesFinder;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * JSqlParser's second opinion on the lexer's candidates. It may only take a candidate away, and only when it
 * parsed the statement and sees the name as a table and never as a function; where it cannot parse PostgreSQL
 * syntax, or is unsure, the lexer's answer stands. Running an RPC statement in the session by mistake is the
 * failure pgstitch exists to prevent, so doubt keeps the call.
 */
final class RpcCallConfirmer {

    private RpcCallConfirmer() {
    }

    static List<String> confirm(String statementText, List<RpcCallFinder.Candidate> candidates) {
        List<String> names = new ArrayList<>();
        candidates.forEach(candidate -> names.add(candidate.name()));
        if (candidates.isEmpty()) {
            return names;
        }
        Statement statement;
        try {
            statement = CCJSqlParserUtil.parse(stripSemicolon(statementText),
                    parser -> parser.withTimeOut(2_000));
        } catch (JSQLParserException | RuntimeException e) {
            return names; // PostgreSQL syntax JSqlParser does not know: the lexer's answer stands
        }
        FunctionAndTableFinder finder = new FunctionAndTableFinder();
        Set<String> tables;
        try {
            tables = lastParts(finder.getTables(statement));
        } catch (UnsupportedOperationException e) {
            return names;
        }
        List<String> confirmed = new ArrayList<>();
        for (String name : names) {
            if (finder.functions.contains(name) || !tables.contains(name)) {
                confirmed.add(name);
            }
        }
        return confirmed;
    }

    private static String stripSemicolon(String text) {
        String trimmed = text.strip();
        return trimmed.endsWith(";") ? trimmed.substring(0, trimmed.length() - 1) : trimmed;
    }

    private static Set<String> lastParts(Set<String> qualifiedNames) {
        Set<String> names = new HashSet<>();
        qualifiedNames.forEach(name -> names.add(normalize(name.substring(name.lastIndexOf('.') + 1))));
        return names;
    }

    static String normalize(String part) {
        if (part.length() >= 2 && part.startsWith("\"") && part.endsWith("\"")) {
            return part.substring(1, part.length() - 1).replace("\"\"", "\"");
        }
        return part.toLowerCase(Locale.ROOT);
    }

    /** Collects function names while TablesNamesFinder walks the whole statement. */
    private static final class FunctionAndTableFinder extends TablesNamesFinder<Void> {
        private final Set<String> functions = new HashSet<>();

        @Override
        public <S> Void visit(Function function, S context) {
            List<String> parts = function.getMultipartName();
            if (parts != null && !parts.isEmpty()) {
                functions.add(normalize(parts.get(parts.size() - 1)));
            }
            return super.visit(function, context);
        }
    }
}
