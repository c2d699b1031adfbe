package io.pgstitch.proxy.pool;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** What a backend is sent to take a client's settings, and which backends a client may take at all. */
class SessionSettingsTest {

    @Test
    void aBackendWithASettingTheClientLacksGetsItReset() {
        SessionSettings client = settings("search_path", "x");
        SessionSettings backend = settings("search_path", "x", "work_mem", "64MB");
        assertThat(client.applyTo(backend)).containsExactly("RESET \"work_mem\"");
    }

    @Test
    void differingValuesAreSetWithSetConfigAndResetsFollowInTheSameQuery() {
        SessionSettings client = settings("search_path", "a", "work_mem", "4MB");
        SessionSettings backend = settings("search_path", "b", "statement_timeout", "5s");
        assertThat(client.applyTo(backend)).containsExactly("SELECT pg_catalog.set_config(E'search_path', E'a', false)"
                + ", pg_catalog.set_config(E'work_mem', E'4MB', false); RESET \"statement_timeout\"");
    }

    @Test
    void valuesAreQuotedSoThatNothingInThemEndsTheLiteral() {
        SessionSettings client = settings("search_path", "a'; drop table t; --");
        assertThat(client.applyTo(new SessionSettings())).containsExactly(
                "SELECT pg_catalog.set_config(E'search_path', E'a\\x27; drop table t; --', false)");
    }

    @Test
    void clientEncodingComesInAQueryOfItsOwnFirst() {
        SessionSettings client = settings("search_path", "a", "client_encoding", "LATIN1");
        SessionSettings backend = settings("client_encoding", "UTF8", "work_mem", "1MB");
        assertThat(client.applyTo(backend)).containsExactly(
                "SELECT pg_catalog.set_config(E'client_encoding', E'LATIN1', false)",
                "SELECT pg_catalog.set_config(E'search_path', E'a', false); RESET \"work_mem\"");
    }

    @Test
    void aBackendThatHasTheSettingsAlreadyIsSentNothing() {
        SessionSettings client = settings("search_path", "a", "client_encoding", "UTF8");
        assertThat(client.applyTo(settings("client_encoding", "UTF8", "search_path", "a"))).isEmpty();
        assertThat(new SessionSettings().applyTo(new SessionSettings())).isEmpty();
    }

    @Test
    void copyToMakesTheBackendMatchAndKeepsItsPlaceholders() {
        SessionSettings client = new SessionSettings();
        client.replaceWith(List.of(row("search_path", "a"), placeholder("app.tenant", "7")));
        SessionSettings backend = new SessionSettings();
        backend.replaceWith(List.of(row("work_mem", "1MB"), placeholder("app.other", "x")));

        client.copyTo(backend);
        assertThat(client.applyTo(backend)).isEmpty();
        assertThat(backend.placeholderNames()).containsExactlyInAnyOrder("app.tenant", "app.other");
    }

    @Test
    void aPlaceholderTheBackendLacksIsSetAndOneTheClientNeverDefinedKeepsTheBackendAway() {
        SessionSettings client = new SessionSettings();
        client.replaceWith(List.of(placeholder("app.tenant", "7")));
        SessionSettings fresh = new SessionSettings();
        assertThat(client.canUse(fresh)).isTrue();
        assertThat(client.applyTo(fresh)).containsExactly(
                "SELECT pg_catalog.set_config(E'app.tenant', E'7', false)");

        SessionSettings other = new SessionSettings();
        other.replaceWith(List.of(placeholder("app.tenant", "1"), placeholder("app.user", "bob")));
        assertThat(client.canUse(other)).as("the client would read '' for app.user, not NULL").isFalse();
        assertThat(other.canUse(client)).isTrue();
    }

    @Test
    void resetForgetsTheSettingsButKeepsPlaceholderNamesAsEmptyStrings() {
        SessionSettings backend = new SessionSettings();
        backend.replaceWith(List.of(row("search_path", "a"), placeholder("app.tenant", "7")));
        backend.reset();
        assertThat(backend.placeholderNames()).containsExactly("app.tenant");

        SessionSettings client = new SessionSettings();
        client.replaceWith(List.of(placeholder("app.tenant", "7")));
        assertThat(client.applyTo(backend)).as("no RESET of search_path: DISCARD ALL did it").containsExactly(
                "SELECT pg_catalog.set_config(E'app.tenant', E'7', false)");
        assertThat(new SessionSettings().canUse(backend)).as("app.tenant reads '' there").isFalse();

        SessionSettings empty = new SessionSettings();
        empty.replaceWith(List.of(placeholder("app.tenant", "")));
        assertThat(empty.applyTo(backend)).isEmpty();
    }

    @Test
    void replaceWithSkipsTransactionScopedParametersAndCandidatesNeverDefined() {
        SessionSettings settings = new SessionSettings();
        settings.replaceWith(List.of(row("transaction_isolation", "serializable"), row("search_path", "a"),
                placeholder("app.failed", null), placeholder("app.tenant", "7")));
        assertThat(settings.placeholderNames()).containsExactly("app.tenant");
        assertThat(settings.applyTo(new SessionSettings())).containsExactly(
                "SELECT pg_catalog.set_config(E'search_path', E'a', false), "
                        + "pg_catalog.set_config(E'app.tenant', E'7', false)");

        settings.replaceWith(List.of(row("search_path", "b")));
        assertThat(settings.placeholderNames()).as("nothing undefines a placeholder").containsExactly("app.tenant");
        assertThat(settings.applyTo(settings("search_path", "b"))).containsExactly(
                "SELECT pg_catalog.set_config(E'app.tenant', E'7', false)");
    }

    @Test
    void theReadQueryListsSessionSettingsThenTheCandidatesThatArePlaceholders() {
        assertThat(SessionSettings.readQuery(Set.of())).isEqualTo("SELECT name, pg_catalog.current_setting(name), "
                + "false FROM pg_catalog.pg_settings WHERE source = 'session'");
        assertThat(SessionSettings.readQuery(Set.of("b.x", "a.y'"))).isEqualTo("SELECT name, "
                + "pg_catalog.current_setting(name), false FROM pg_catalog.pg_settings WHERE source = 'session'"
                + " UNION ALL SELECT n, pg_catalog.current_setting(n, true), true FROM pg_catalog.unnest("
                + "ARRAY[E'a.y\\x27', E'b.x']::text[]) n WHERE n NOT IN (SELECT name FROM pg_catalog.pg_settings)");
    }

    /** Settings read from a session: name, value, name, value... */
    private static SessionSettings settings(String... pairs) {
        List<SessionSettings.Row> rows = new ArrayList<>();
        for (int i = 0; i < pairs.length; i += 2) {
            rows.add(row(pairs[i], pairs[i + 1]));
        }
        SessionSettings settings = new SessionSettings();
        settings.replaceWith(rows);
        return settings;
    }

    private static SessionSettings.Row row(String name, String value) {
        return new SessionSettings.Row(name, value, false);
    }

    private static SessionSettings.Row placeholder(String name, String value) {
        return new SessionSettings.Row(name, value, true);
    }
}
