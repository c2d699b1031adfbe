package io.pgstitch.sqlsplit;

import io.pgstitch.sqlsplit.SqlLexer.TokenType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a query text means to the proxy. Thread-safe.
 *
 * <p>A text comes in one of two forms. The proxy passes the client's bytes, one char per byte (read as
 * ISO-8859-1), with the {@link ClientEncoding} they are in: offsets are then byte offsets, and a segment's
 * text is a slice of the original bytes. Explain-split and tests pass Java strings (the methods without an
 * encoding): offsets are then UTF-16 char offsets.
 *
 * <p>{@link #mayContainRpcCall} is the fast path every Query takes: one lexer pass comparing words against the
 * patterns' literal prefixes, no allocation per word, no parser. Only texts it flags go to {@link #analyze},
 * which splits, classifies, finds calls and has JSqlParser confirm them; its results are cached by text.
 */
public final class QueryAnalyzer {

    /** Texts longer than this are analysed every time instead of being cached: the cache must stay small. */
    static final int MAX_CACHED_LENGTH = 16 * 1024;

    private record Key(String sql, ClientEncoding encoding, boolean standardConformingStrings) {
    }

    private final RpcFunctionMatcher matcher;
    private final Map<Key, QueryAnalysis> cache;
    private final java.util.concurrent.atomic.LongAdder analyses = new java.util.concurrent.atomic.LongAdder();

    public QueryAnalyzer(RpcFunctionMatcher matcher, int cacheSize) {
        this.matcher = matcher;
        this.cache = new LinkedHashMap<>(Math.min(cacheSize, 1024), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, QueryAnalysis> eldest) {
                return size() > cacheSize;
            }
        };
    }

    /** The fast path on a Java string with PostgreSQL's default {@code standard_conforming_strings = on}. */
    public boolean mayContainRpcCall(String sql) {
        return mayContainRpcCall(sql, true);
    }

    /** The fast path on a Java string. */
    public boolean mayContainRpcCall(String sql, boolean standardConformingStrings) {
        return mayContainRpcCall(sql, ClientEncoding.JAVA_TEXT, standardConformingStrings);
    }

    /**
     * True when a word or quoted identifier outside strings and comments could name an RPC function. False
     * positives are fine (analyze decides); a false negative would let an RPC call run in the session.
     *
     * @param bytes the client's bytes, one char per byte, in {@code encoding}
     */
    public boolean mayContainRpcCall(String bytes, ClientEncoding encoding, boolean standardConformingStrings) {
        if (matcher.isEmpty()) {
            return false;
        }
        String sql = encoding.lexable(bytes);
        boolean[] found = new boolean[1];
        SqlLexer.scan(sql, standardConformingStrings, (type, start, end) -> {
            if (type == TokenType.WORD && matcher.mayMatchWord(sql, start, end)
                    || type == TokenType.QUOTED_IDENTIFIER && matcher.mayMatchWord(sql, start + 1, end)) {
                found[0] = true;
                return false;
            }
            return true;
        });
        return found[0];
    }

    /** The analysis of a Java string. */
    public QueryAnalysis analyze(String sql, boolean standardConformingStrings) {
        return analyze(sql, ClientEncoding.JAVA_TEXT, standardConformingStrings);
    }

    /**
     * The analysis of the client's bytes, one char per byte, in {@code encoding}: spans are byte offsets.
     */
    public QueryAnalysis analyze(String bytes, ClientEncoding encoding, boolean standardConformingStrings) {
        analyses.increment();
        if (bytes.length() > MAX_CACHED_LENGTH) {
            return analyzeUncached(bytes, encoding, standardConformingStrings);
        }
        Key key = new Key(bytes, encoding, standardConformingStrings);
        synchronized (cache) {
            QueryAnalysis cached = cache.get(key);
            if (cached != null) {
                return cached;
            }
        }
        QueryAnalysis analysis = analyzeUncached(bytes, encoding, standardConformingStrings);
        synchronized (cache) {
            cache.put(key, analysis);
        }
        return analysis;
    }

    private QueryAnalysis analyzeUncached(String text, ClientEncoding encoding, boolean standardConformingStrings) {
        List<SqlStatement> statements = new ArrayList<>();
        for (StatementSplitter.Piece piece : StatementSplitter.split(encoding.lexable(text), text, encoding,
                standardConformingStrings)) {
            StatementClassifier.Classification classification = StatementClassifier.classify(piece.tokens());
            List<RpcCallFinder.Candidate> candidates = matcher.isEmpty() ? List.of()
                    : RpcCallFinder.find(piece.tokens(), matcher);
            // JSqlParser reads characters: the statement decoded, so that its names compare with the candidates'
            List<String> calls = candidates.isEmpty() ? List.of()
                    : RpcCallConfirmer.confirm(encoding.decode(text, piece.start(), piece.end()), candidates);
            StatementKind kind = classification.kind();
            statements.add(new SqlStatement(piece.start(), piece.end(), kind, classification.transaction(), calls,
                    StatementClassifier.name(kind, classification.transaction(), piece.tokens()),
                    StatementClassifier.sessionEffect(kind, piece.tokens()),
                    StatementClassifier.executes(kind, piece.tokens())));
        }
        return new QueryAnalysis(statements);
    }

    /** How many texts went past the fast path to {@link #analyze} (cache hits included). */
    public long analyses() {
        return analyses.sum();
    }

    int cachedEntries() {
        synchronized (cache) {
            return cache.size();
        }
    }
}
