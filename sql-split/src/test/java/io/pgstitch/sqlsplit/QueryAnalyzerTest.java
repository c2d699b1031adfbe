package io.pgstitch.sqlsplit;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class QueryAnalyzerTest {

    private final QueryAnalyzer analyzer = new QueryAnalyzer(new RpcFunctionMatcher(List.of("iasql_*")), 3);

    @Test
    void theFastPathSaysNoForOrdinaryQueries() {
        assertThat(analyzer.mayContainRpcCall("SELECT abalance FROM pgbench_accounts WHERE aid = 42;")).isFalse();
        assertThat(analyzer.mayContainRpcCall("select 'iasql_apply()' -- iasql_x()\n/* iasql_y() */")).isFalse();
        assertThat(analyzer.mayContainRpcCall("select $$iasql_apply()$$")).isFalse();
    }

    @Test
    void theFastPathSaysYesForCandidates() {
        assertThat(analyzer.mayContainRpcCall("select iasql_apply()")).isTrue();
        assertThat(analyzer.mayContainRpcCall("select IASQL_APPLY()")).isTrue();
        assertThat(analyzer.mayContainRpcCall("select \"iasql_apply\"()")).isTrue();
        assertThat(analyzer.mayContainRpcCall("select iasql_jobs from t")).as("a false positive is allowed").isTrue();
    }

    @Test
    void noPatternsMeansNoCandidates() {
        QueryAnalyzer none = new QueryAnalyzer(new RpcFunctionMatcher(List.of()), 3);
        assertThat(none.mayContainRpcCall("select iasql_apply()")).isFalse();
        assertThat(none.analyze("select iasql_apply()", true).hasRpcCall()).isFalse();
    }

    @Test
    void resultsAreCachedAndTheCacheIsBounded() {
        QueryAnalysis first = analyzer.analyze("select iasql_apply()", true);
        assertThat(analyzer.analyze("select iasql_apply()", true)).isSameAs(first);
        assertThat(analyzer.analyze("select iasql_apply()", false)).isNotSameAs(first);
        for (int i = 0; i < 10; i++) {
            analyzer.analyze("select " + i, true);
        }
        assertThat(analyzer.cachedEntries()).isEqualTo(3);
        String huge = "select 1;".repeat(QueryAnalyzer.MAX_CACHED_LENGTH);
        analyzer.analyze(huge, true);
        assertThat(analyzer.cachedEntries()).isEqualTo(3);
    }

    @Test
    void segmentsFollowTheSplitMode() {
        String sql = "insert into t values (1); insert into t values (2); select iasql_apply(); select 1";
        QueryAnalysis analysis = analyzer.analyze(sql, true);
        List<Segment> rpcOnly = analysis.segments(SplitMode.RPC_ONLY);
        assertThat(rpcOnly).extracting(segment -> segment.text(sql)).containsExactly(
                "insert into t values (1); insert into t values (2);", "select iasql_apply();", "select 1");
        assertThat(rpcOnly).extracting(Segment::rpc).containsExactly(false, true, false);
        assertThat(analysis.segments(SplitMode.ALWAYS)).hasSize(4);
        List<Segment> never = analysis.segments(SplitMode.NEVER);
        assertThat(never).singleElement().satisfies(segment -> {
            assertThat(segment.text(sql)).isEqualTo(sql);
            assertThat(segment.rpc()).isTrue();
        });
        assertThat(analyzer.analyze("  -- nothing\n", true).segments(SplitMode.RPC_ONLY)).isEmpty();
    }

    @Test
    void transactionCommandsAreTold() {
        QueryAnalysis analysis = analyzer.analyze("begin; savepoint a; rollback to a; commit; end; abort", true);
        assertThat(analysis.statements()).extracting(SqlStatement::transaction).containsExactly(
                TransactionCommand.BEGIN, TransactionCommand.SAVEPOINT, TransactionCommand.ROLLBACK_TO_SAVEPOINT,
                TransactionCommand.COMMIT, TransactionCommand.COMMIT, TransactionCommand.ROLLBACK);
        assertThat(TransactionCommand.BEGIN.opensTransaction()).isTrue();
        assertThat(TransactionCommand.ROLLBACK_TO_SAVEPOINT.endsTransaction()).isFalse();
        assertThat(TransactionCommand.PREPARE_TRANSACTION.endsTransaction()).isTrue();
    }

    @Test
    void cursorsAndPreparedStatementsAreNamedAsPostgresqlResolvesThem() {
        String sql = "DECLARE _psql_cursor NO SCROLL CURSOR FOR select iasql_setof(3); FETCH FORWARD 2 FROM "
                + "_psql_cursor; move next in \"Named One\"; fetch C; CLOSE _psql_cursor; close all; "
                + "PREPARE q(int) AS select iasql_echo($1); EXECUTE Q(6); DEALLOCATE PREPARE q; deallocate all; "
                + "DISCARD ALL";
        QueryAnalysis analysis = analyzer.analyze(sql, true);
        assertThat(analysis.statements()).extracting(SqlStatement::kind).containsExactly(StatementKind.DECLARE,
                StatementKind.FETCH, StatementKind.FETCH, StatementKind.FETCH, StatementKind.CLOSE,
                StatementKind.CLOSE, StatementKind.PREPARE, StatementKind.EXECUTE, StatementKind.DEALLOCATE,
                StatementKind.DEALLOCATE, StatementKind.DISCARD);
        assertThat(analysis.statements()).extracting(SqlStatement::name).containsExactly("_psql_cursor",
                "_psql_cursor", "Named One", "c", "_psql_cursor", null, "q", "q", "q", null, "all");
        assertThat(analysis.statements().get(0).rpcCalls()).containsExactly("iasql_setof");
        assertThat(analysis.statements().get(7).hasRpcCall()).as("EXECUTE names a statement, not a function")
                .isFalse();
    }

    @Test
    void whatAStatementLeavesInTheSessionIsTold() {
        assertThat(effect("create temp table tt as select iasql_echo(9)")).isEqualTo("creates a temporary table");
        assertThat(effect("CREATE LOCAL TEMPORARY TABLE tt AS SELECT 1")).isEqualTo("creates a temporary table");
        assertThat(effect("create temporary view v as select iasql_echo(1)")).isEqualTo("creates a temporary object");
        assertThat(effect("select iasql_echo(9) as x into temp tt")).isEqualTo("creates a temporary table");
        assertThat(effect("select iasql_echo(9) into local temporary table tt")).isEqualTo("creates a temporary table");
        assertThat(effect("declare c cursor with hold for select iasql_setof(3)"))
                .isEqualTo("declares a cursor WITH HOLD");
        assertThat(effect("select set_config('app.x', iasql_echo(1)::text, false)")).isEqualTo("calls set_config");
        assertThat(effect("select pg_catalog.pg_advisory_lock(iasql_echo(1))")).isEqualTo("calls pg_advisory_lock");
        assertThat(effect("create table t as select iasql_echo(9)")).as("a table that outlives the session").isNull();
        assertThat(effect("select iasql_echo(9) into t")).isNull();
        assertThat(effect("insert into temp_log select iasql_echo(9)")).isNull();
        assertThat(effect("declare c cursor without hold for select iasql_setof(3)")).isNull();
        assertThat(effect("select (select 1 into temp x)")).as("only the outer INTO makes a table").isNull();
    }

    @Test
    void whatAStatementExecutesIsTold() {
        assertThat(executes("execute q(1)")).isEqualTo("q");
        assertThat(executes("EXPLAIN ANALYZE EXECUTE \"Q\"(1)")).isEqualTo("Q");
        assertThat(executes("explain analyse verbose execute q")).isEqualTo("q");
        assertThat(executes("explain (analyze, costs off, timing off) execute q('x')")).isEqualTo("q");
        assertThat(executes("create table t as execute q(2)")).isEqualTo("q");
        assertThat(executes("create temp table t (a) as execute q with no data")).isEqualTo("q");
        assertThat(executes("explain select 1")).isNull();
        assertThat(executes("create table t as select 1 as execute")).isNull();
        assertThat(executes("select 1")).isNull();
    }

    private String executes(String sql) {
        return analyzer.analyze(sql, true).statements().get(0).executes();
    }

    private String effect(String sql) {
        return analyzer.analyze(sql, true).statements().get(0).sessionEffect();
    }

    @Test
    void setAndResetNameTheParameterAsPgSettingsSpellsIt() {
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("SET search_path = x", "search_path");
        cases.put("SET LOCAL app.tenant TO 1", "app.tenant");
        cases.put("SET SESSION Work_Mem = '4MB'", "work_mem");
        cases.put("SET TIME ZONE 'UTC'", "timezone");
        cases.put("SET SESSION AUTHORIZATION bob", "session_authorization");
        cases.put("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "transaction");
        cases.put("RESET ALL", "all");
        cases.put("RESET search_path", "search_path");
        cases.put("SET SCHEMA 'x'", "search_path");
        cases.put("SET NAMES 'LATIN1'", "client_encoding");
        // GUC names are case-insensitive in PostgreSQL, quoted or not (guc.c compares them with
        // guc_name_compare): SET "MyApp"."X" = 1 is then read by SHOW myapp.x and current_setting('myapp.x'),
        // and SET "Search_Path" sets search_path; so the quoted spelling folds to the pg_settings one as well
        cases.put("SET \"MyApp\".\"X\" = 1", "myapp.x");
        cases.put("SET \"Search_Path\" = x", "search_path");
        cases.put("SET \"app.tenant\" = 1", "app.tenant");
        cases.put("SET a.b.c = 1", "a.b.c");
        cases.put("RESET app.tenant", "app.tenant");
        cases.forEach((sql, name) -> assertThat(analyzer.analyze(sql, true).statements())
                .as(sql).singleElement().extracting(SqlStatement::name).isEqualTo(name));
    }
}
