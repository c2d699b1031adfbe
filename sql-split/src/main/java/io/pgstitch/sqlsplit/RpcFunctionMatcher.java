package io.pgstitch.sqlsplit;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which functions are RPC functions: glob patterns ({@code *} any run, {@code ?} one character) on the
 * function name, optionally schema-qualified ({@code myschema.iasql_*}); an unqualified pattern matches in
 * every schema. Unquoted names compare case-insensitively (PostgreSQL folds them), so patterns are lower-case
 * unless written in double quotes.
 */
public final class RpcFunctionMatcher {

    /** @param literalPrefix what every matching name starts with, up to a wildcard or a non-ASCII character */
    private record Pattern(String schema, String name, String literalPrefix) {
    }

    private final List<Pattern> patterns = new ArrayList<>();

    public RpcFunctionMatcher(List<String> globs) {
        for (String glob : globs) {
            int dot = glob.lastIndexOf('.');
            String schema = dot < 0 ? null : normalize(glob.substring(0, dot));
            String name = normalize(glob.substring(dot + 1));
            patterns.add(new Pattern(schema, name, name.substring(0, literalAsciiPrefixLength(name))));
        }
    }

    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    /**
     * @param schema null when the call is unqualified
     * @param name   the function name as PostgreSQL sees it (unquoted names already lower-cased)
     */
    public boolean matches(String schema, String name) {
        for (Pattern pattern : patterns) {
            if (pattern.schema != null && (schema == null || !glob(pattern.schema, schema))) {
                continue;
            }
            if (glob(pattern.name, name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The fast path's question, without allocating: could the unquoted word {@code sql[start, end)} be the name
     * of an RPC function? Case-insensitive; only the literal prefix of each pattern is compared, and only its
     * ASCII part, which reads the same in a Java string and in a client's bytes of any encoding.
     */
    boolean mayMatchWord(String sql, int start, int end) {
        for (Pattern pattern : patterns) {
            String prefix = pattern.literalPrefix;
            if (end - start >= prefix.length() && sql.regionMatches(true, start, prefix, 0, prefix.length())) {
                return true;
            }
        }
        return false;
    }

    private static String normalize(String part) {
        if (part.length() >= 2 && part.startsWith("\"") && part.endsWith("\"")) {
            return part.substring(1, part.length() - 1).replace("\"\"", "\"");
        }
        return part.toLowerCase(Locale.ROOT);
    }

    private static int literalAsciiPrefixLength(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '*' || c == '?' || c >= 0x80) {
                return i;
            }
        }
        return name.length();
    }

    /** Iterative glob match with one backtrack point: linear in practice, never exponential. */
    static boolean glob(String pattern, String text) {
        int p = 0;
        int t = 0;
        int starP = -1;
        int starT = -1;
        while (t < text.length()) {
            if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == text.charAt(t))) {
                p++;
                t++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                starP = p++;
                starT = t;
            } else if (starP >= 0) {
                p = starP + 1;
                t = ++starT;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') {
            p++;
        }
        return p == pattern.length();
    }
}
