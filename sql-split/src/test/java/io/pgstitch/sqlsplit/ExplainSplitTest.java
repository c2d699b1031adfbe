package io.pgstitch.sqlsplit;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ExplainSplitTest {

    private static String explain(String sql, boolean json) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ExplainSplit.explain(sql, List.of("iasql_*"), json, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void jsonIsOneObjectPerStatementPerLine() {
        assertThat(explain("select iasql_apply();", true))
                .isEqualTo("{\"start\": 0, \"end\": 21, \"kind\": \"select\", \"rpc\": [\"iasql_apply\"]}\n");
        assertThat(explain("begin; select \"iasql_\"\"q\"();", true).lines()).containsExactly(
                "{\"start\": 0, \"end\": 6, \"kind\": \"transaction_control\", \"rpc\": []}",
                "{\"start\": 7, \"end\": 28, \"kind\": \"select\", \"rpc\": [\"iasql_\\\"q\"]}");
    }

    @Test
    void textShowsStatementsThenSegments() {
        String out = explain("INSERT INTO i VALUES (1); SELECT iasql_apply(); SELECT * FROM i;", false);
        assertThat(out).contains("statement 1  [0, 25)  insert")
                .contains("statement 2  [26, 47)  select  rpc: iasql_apply")
                .contains("segments (split: rpc-only):")
                .contains("2  [26, 47)  RPC connection     statement 2")
                .contains("3  [48, 64)  session backend    statement 3");
    }

    @Test
    void anEmptyTextSaysSo() {
        assertThat(explain("-- nothing", false)).contains("no statements");
        assertThat(explain("", true)).isEmpty();
    }
}
