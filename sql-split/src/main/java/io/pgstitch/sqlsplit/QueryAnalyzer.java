package io.pgstitch.sqlsplit;

import io.pgstitch.sqlsplit.SqlLexer.TokenType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a query text means to the proxy. Thread-safe.
 *
 * <p>{@link #mayContainRpcCall} is the fast path every Query takes: one lexer pass comparing words against the
 * patterns' literal prefixes, no allocation per word, no parser. Only texts it flags go to {@link #analyze},
 * which splits, classifies, finds calls and has JSqlParser confirm them; its results are cached by text.
 */
public final class QueryAnalyzer {

    /** Texts longer than this are analysed every time instead of being cached: the cache must stay small. */
    static final int MAX_CACHED_LENGTH = 16 * 1024;

    private record Key(String sql, boolean standardConformingStrings) {
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

    /** The fast path with PostgreSQL's default {@code standard_conforming_strings = on}. */
    public boolean mayContainRpcCall(String sql) {
        return mayContainRpcCall(sql, true);
    }

    /**
     * True when a word or quoted identifier outside strings and comments could name an RPC function. False
     * positives are fine (analyze decides); a false negative would let an RPC call run in the session.
     */
    public boolean mayContainRpcCall(String sql, boolean standardConformingStrings) {
        if (matcher.isEmpty()) {
            return false;
        }
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

    public QueryAnalysis analyze(String sql, boolean standardConformingStrings) {
        analyses.increment();
        if (sql.length() > MAX_CACHED_LENGTH) {
            return analyzeUncached(sql, standardConformingStrings);
        }
        Key key = new Key(sql, standardConformingStrings);
        synchronized (cache) {
            QueryAnalysis cached = cache.get(key);
            if (cached != null) {
                return cached;
            }
        }
        QueryAnalysis analysis = analyzeUncached(sql, standardConformingStrings);
        synchronized (cache) {
            cache.put(key, analysis);
        }
        return analysis;
    }

    private QueryAnalysis analyzeUncached(String sql, boolean standardConformingStrings) {
        List<SqlStatement> statements = new ArrayList<>();
        for (StatementSplitter.Piece piece : StatementSplitter.split(sql, standardConformingStrings)) {
            StatementClassifier.Classification classification = StatementClassifier.classify(piece.tokens());
            List<RpcCallFinder.Candidate> candidates = matcher.isEmpty() ? List.of()
                    : RpcCallFinder.find(piece.tokens(), matcher);
            List<String> calls = RpcCallConfirmer.confirm(sql.substring(piece.start(), piece.end()), candidates);
            statements.add(new SqlStatement(piece.start(), piece.end(), classification.kind(),
                    classification.transaction(), calls));
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
