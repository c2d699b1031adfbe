package io.pgstitch.sqlsplit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Texts given as the client's bytes, one char per byte, in their client_encoding: spans are byte offsets into
 * the original bytes, and they are the same statements PostgreSQL sees once it has converted the text.
 */
class ClientEncodingTest {

    /** Every encoding PostgreSQL knows (pg_wchar.h), by its canonical name. */
    static final List<String> POSTGRESQL_ENCODINGS = List.of("SQL_ASCII", "EUC_JP", "EUC_CN", "EUC_KR", "EUC_TW",
            "EUC_JIS_2004", "UTF8", "MULE_INTERNAL", "LATIN1", "LATIN2", "LATIN3", "LATIN4", "LATIN5", "LATIN6",
            "LATIN7", "LATIN8", "LATIN9", "LATIN10", "WIN1256", "WIN1258", "WIN866", "WIN874", "KOI8R", "WIN1251",
            "WIN1252", "ISO_8859_5", "ISO_8859_6", "ISO_8859_7", "ISO_8859_8", "WIN1250", "WIN1253", "WIN1254",
            "WIN1255", "WIN1257", "KOI8U", "SJIS", "BIG5", "GBK", "UHC", "GB18030", "JOHAB", "SHIFT_JIS_2004");

    private final QueryAnalyzer analyzer = new QueryAnalyzer(new RpcFunctionMatcher(List.of("iasql_*")), 16);

    /** {@code text} encoded in {@code charset}, one char per byte. */
    private static String bytes(String text, String charset) {
        return new String(text.getBytes(Charset.forName(charset)), StandardCharsets.ISO_8859_1);
    }

    private static String decoded(String bytes, String charset) {
        return new String(bytes.getBytes(StandardCharsets.ISO_8859_1), Charset.forName(charset));
    }

    @Test
    void everyPostgresqlEncodingIsKnownByItsNameAndItsSpellings() {
        for (String name : POSTGRESQL_ENCODINGS) {
            assertThat(ClientEncoding.of(name)).as(name).isNotNull().extracting(ClientEncoding::name).isEqualTo(name);
        }
        assertThat(ClientEncoding.of("utf-8")).isSameAs(ClientEncoding.UTF8);
        assertThat(ClientEncoding.of("Shift_JIS_2004")).isSameAs(ClientEncoding.of("SHIFT_JIS_2004"));
        assertThat(ClientEncoding.of("latin-1")).isSameAs(ClientEncoding.of("LATIN1"));
        assertThat(ClientEncoding.of("EBCDIC")).isNull();
        assertThat(ClientEncoding.of(null)).isNull();
    }

    @Test
    void latin1BytesAreCutWhereTheyStandAndNeverReencoded() {
        String bytes = bytes("insert into enc values ('café'); select iasql_noop();", "ISO-8859-1");
        QueryAnalysis analysis = analyzer.analyze(bytes, ClientEncoding.of("LATIN1"), true);
        assertThat(analysis.segments(SplitMode.RPC_ONLY)).extracting(segment -> segment.text(bytes))
                .containsExactly(bytes("insert into enc values ('café');", "ISO-8859-1"), "select iasql_noop();");
        assertThat(analysis.statements().get(1).start()).as("a byte offset").isEqualTo(33);
    }

    @Test
    void invalidUtf8IsLeftForPostgresqlToRefuse() {
        // 0xE9 alone is not UTF-8: the server answers 22021, so pgstitch must pass the byte on as it came
        String bytes = "insert into enc values ('caf\u00e9'); select iasql_noop();";
        QueryAnalysis analysis = analyzer.analyze(bytes, ClientEncoding.UTF8, true);
        assertThat(analysis.segments(SplitMode.RPC_ONLY)).extracting(segment -> segment.text(bytes))
                .containsExactly("insert into enc values ('caf\u00e9');", "select iasql_noop();");
    }

    /**
     * Client-only encodings whose second byte may be a backslash: read byte by byte, {@code E'予'} (SJIS 97 5C)
     * would end in an escaped quote, hiding the RPC call in a string that never closes.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"SJIS, windows-31j, 予", "SHIFT_JIS_2004, x-SJIS_0213, 予", "BIG5, x-windows-950, 么",
            "GBK, GBK, 乗", "GB18030, GB18030, 乗", "UHC, x-windows-949, 갂", "JOHAB, x-Johab, 亡"})
    void aTrailByteThatLooksLikeAsciiIsPartOfItsCharacter(String name, String charset, String character) {
        ClientEncoding encoding = ClientEncoding.of(name);
        for (String sql : List.of("select E'" + character + "'; select iasql_apply()",
                "select '" + character + "' as \"" + character + "\"; select iasql_apply()")) {
            String bytes = bytes(sql, charset);
            boolean standardConformingStrings = sql.startsWith("select E");
            assertThat(analyzer.mayContainRpcCall(bytes, encoding, standardConformingStrings)).as(sql).isTrue();
            QueryAnalysis analysis = analyzer.analyze(bytes, encoding, standardConformingStrings);
            assertThat(analysis.statements()).extracting(statement -> decoded(statement.text(bytes), charset))
                    .as(sql).containsExactly(sql.substring(0, sql.indexOf(';') + 1), "select iasql_apply()");
            assertThat(analysis.statements().get(1).rpcCalls()).containsExactly("iasql_apply");
        }
    }

    @Test
    void readAsIfEachByteWereACharacterSjisWouldHideTheCall() {
        String bytes = bytes("select E'予'; select iasql_apply()", "windows-31j");
        assertThat(bytes.charAt(10)).as("the second byte of 予").isEqualTo('\\');
        assertThat(analyzer.mayContainRpcCall(bytes, ClientEncoding.of("LATIN1"), true)).isFalse();
        assertThat(analyzer.mayContainRpcCall(bytes, ClientEncoding.of("SJIS"), true)).isTrue();
    }

    @Test
    void namesAreDecodedInTheClientsEncodingBeforeTheyMeetPatterns() {
        QueryAnalyzer accented = new QueryAnalyzer(new RpcFunctionMatcher(List.of("données_*", "予_?")), 4);
        String latin1 = bytes("select données_x(); select \"données_Y\"()", "ISO-8859-1");
        assertThat(accented.mayContainRpcCall(latin1, ClientEncoding.of("LATIN1"), true)).isTrue();
        assertThat(accented.analyze(latin1, ClientEncoding.of("LATIN1"), true).statements())
                .extracting(SqlStatement::rpcCalls).containsExactly(List.of("données_x"), List.of("données_Y"));
        String utf8 = bytes("select données_x()", "UTF-8");
        assertThat(accented.analyze(utf8, ClientEncoding.UTF8, true).statements().get(0).rpcCalls())
                .containsExactly("données_x");
        assertThat(accented.analyze(latin1, ClientEncoding.UTF8, true).statements().get(0).rpcCalls())
                .as("Latin-1 bytes read as UTF-8 name another function").isEmpty();
        String sjis = bytes("select 予_表()", "windows-31j");
        assertThat(accented.analyze(sjis, ClientEncoding.of("SJIS"), true).statements().get(0).rpcCalls())
                .as("? is one character, however many bytes").containsExactly("予_表");
    }

    @Test
    void withoutAJavaCharsetNonAsciiBytesOfNamesMatchOnlyWildcards() {
        String bytes = "select iasql_\u00e9\u00e9(); select iasql_\u00e9()";
        assertThat(analyzer.analyze(bytes, ClientEncoding.of("MULE_INTERNAL"), true).statements())
                .extracting(SqlStatement::rpcCalls)
                .containsExactly(List.of("iasql_\ufffd\ufffd"), List.of("iasql_\ufffd"));
    }

    @Test
    void theSameBytesInAnotherEncodingAreAnotherCacheEntry() {
        String bytes = bytes("select iasql_apply(); select 'é'", "ISO-8859-1");
        QueryAnalysis latin1 = analyzer.analyze(bytes, ClientEncoding.of("LATIN1"), true);
        assertThat(analyzer.analyze(bytes, ClientEncoding.of("LATIN1"), true)).isSameAs(latin1);
        assertThat(analyzer.analyze(bytes, ClientEncoding.of("LATIN9"), true)).isNotSameAs(latin1);
    }

    /** Bytes of any kind, valid in the encoding or not, never make the analysis throw or lose its bounds. */
    @Test
    void randomBytesInEveryEncoding() {
        java.util.Random random = new java.util.Random(7);
        for (String name : POSTGRESQL_ENCODINGS) {
            ClientEncoding encoding = ClientEncoding.of(name);
            for (int i = 0; i < 60; i++) {
                byte[] raw = new byte[random.nextInt(120)];
                random.nextBytes(raw);
                String bytes = new String(raw, StandardCharsets.ISO_8859_1).replace('\0', ';') + " iasql_x()";
                assertThat(encoding.lexable(bytes)).hasSameSizeAs(bytes);
                int previousEnd = 0;
                for (SqlStatement statement : analyzer.analyze(bytes, encoding, i % 2 == 0).statements()) {
                    assertThat(statement.start()).as("%s seed %d", name, i).isGreaterThanOrEqualTo(previousEnd);
                    assertThat(statement.end()).isLessThanOrEqualTo(bytes.length());
                    previousEnd = statement.end();
                }
                analyzer.mayContainRpcCall(bytes, encoding, i % 2 == 0);
            }
        }
    }

    /** The whole corpus, encoded in every encoding that can hold it, splits into the same statements and calls. */
    @Test
    void theCorpusSplitsTheSameAsBytesInEveryEncoding() throws Exception {
        QueryAnalyzer corpusAnalyzer = new QueryAnalyzer(new RpcFunctionMatcher(CorpusTest.PATTERNS), 1);
        int checked = 0;
        for (String name : POSTGRESQL_ENCODINGS) {
            ClientEncoding encoding = ClientEncoding.of(name);
            Charset charset = encoding.charset();
            if (charset == null || name.equals("SQL_ASCII")) {
                continue;
            }
            for (CorpusTest.Case c : CorpusTest.cases()) {
                if (!charset.newEncoder().canEncode(c.sql())) {
                    continue;
                }
                String bytes = new String(c.sql().getBytes(charset), StandardCharsets.ISO_8859_1);
                QueryAnalysis analysis = corpusAnalyzer.analyze(bytes, encoding, c.standardConformingStrings());
                List<CorpusTest.Expected> actual = analysis.statements().stream()
                        .map(s -> new CorpusTest.Expected(s.kind().jsonName(), s.rpcCalls(),
                                new String(s.text(bytes).getBytes(StandardCharsets.ISO_8859_1), charset)))
                        .toList();
                assertThat(actual).as("%s in %s", c.name(), name).isEqualTo(c.statements());
                if (c.statements().stream().anyMatch(s -> !s.rpc().isEmpty())) {
                    assertThat(corpusAnalyzer.mayContainRpcCall(bytes, encoding, c.standardConformingStrings()))
                            .as("%s in %s: the fast path must not miss a call", c.name(), name).isTrue();
                }
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(5000);
    }
}
