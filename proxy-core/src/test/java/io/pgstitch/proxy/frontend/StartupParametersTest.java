package io.pgstitch.proxy.frontend;

import io.pgstitch.protocol.PgException;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StartupParametersTest {

    @Test
    void optionsExpandWhereTheyStand() {
        Map<String, String> startup = new LinkedHashMap<>();
        startup.put("application_name", "psql");
        startup.put("options", "-c search_path=a\\ b  --statement-timeout=5s -cwork_mem=64kB");
        startup.put("client_encoding", "UTF8");
        assertThat(StartupParameters.of(startup)).containsExactly(
                Map.entry("application_name", "psql"), Map.entry("search_path", "a b"),
                Map.entry("statement_timeout", "5s"), Map.entry("work_mem", "64kB"),
                Map.entry("client_encoding", "UTF8"));
    }

    @Test
    void unsupportedSwitchesAndMissingValuesAreRefusedByName() {
        assertThatThrownBy(() -> StartupParameters.options("-e")).isInstanceOf(PgException.class)
                .hasMessageContaining("\"-e\"");
        assertThatThrownBy(() -> StartupParameters.options("-c")).isInstanceOf(PgException.class);
        assertThatThrownBy(() -> StartupParameters.options("-c work_mem")).isInstanceOf(PgException.class)
                .hasMessageContaining("work_mem");
    }

    @Test
    void onlyWhatTheBackendLacksIsApplied() {
        Map<String, String> wanted = new LinkedHashMap<>();
        wanted.put("datestyle", "ISO, MDY");
        wanted.put("application_name", "app");
        wanted.put("statement_timeout", "5s");
        Map<String, String> backend = Map.of("DateStyle", "ISO, MDY", "application_name", "");
        assertThat(StartupParameters.differing(wanted, backend)).containsExactly(
                Map.entry("application_name", "app"), Map.entry("statement_timeout", "5s"));
    }
}
