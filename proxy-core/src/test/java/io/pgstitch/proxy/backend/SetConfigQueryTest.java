package io.pgstitch.proxy.backend;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SetConfigQueryTest {

    @Test
    void literalsAreSafeInsideAnyQuoting() {
        assertThat(SetConfigQuery.literal("it's $1 \\ $pgstitch$"))
                .isEqualTo("E'it\\x27s \\x241 \\\\ \\x24pgstitch\\x24'");
    }

    @Test
    void setsEverySettingInOneQuery() {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("application_name", "psql");
        settings.put("search_path", "a, \"B\"");
        assertThat(SetConfigQuery.of(settings)).isEqualTo("SELECT pg_catalog.set_config(E'application_name', "
                + "E'psql', false), pg_catalog.set_config(E'search_path', E'a, \"B\"', false)");
        assertThat(SetConfigQuery.of(Map.of())).isNull();
    }
}
