package io.pgstitch.sqlsplit;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RpcCallConfirmerTest {

    private static List<String> confirm(String sql, String name) {
        return RpcCallConfirmer.confirm(sql, List.of(new RpcCallFinder.Candidate(null, name)));
    }

    @Test
    void aNameJSqlParserSeesOnlyAsATableIsTakenAway() {
        assertThat(confirm("insert into iasql_log (a) values (1);", "iasql_log")).isEmpty();
    }

    @Test
    void aNameJSqlParserSeesAsAFunctionStays() {
        assertThat(confirm("select iasql_apply();", "iasql_apply")).containsExactly("iasql_apply");
        assertThat(confirm("select * from iasql_install('m')", "iasql_install")).containsExactly("iasql_install");
    }

    @Test
    void whereJSqlParserDoesNotLookTheLexerStands() {
        // TablesNamesFinder does not walk ORDER BY or RETURNING: a missing "function" must not drop the call
        assertThat(confirm("select a from t order by iasql_rank(a)", "iasql_rank")).containsExactly("iasql_rank");
        assertThat(confirm("update t set a = 1 returning iasql_sync(a)", "iasql_sync")).containsExactly("iasql_sync");
    }

    @Test
    void syntaxJSqlParserCannotParseKeepsTheLexersAnswer() {
        assertThat(confirm("select iasql_apply() from t tablesample bernoulli (1) repeatable (7) "
                + "fetch first 1 row with ties for no key update skip locked", "iasql_apply"))
                .containsExactly("iasql_apply");
    }
}
