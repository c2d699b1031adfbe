package io.pgstitch.proxy.pool;

import io.pgstitch.conf.PoolConfig;
import io.pgstitch.conf.PoolConfig.SessionFeatures;
import io.pgstitch.conf.PoolMode;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the statements a client sends mean for its binding, mode by mode. */
class ClientSessionTest {

    private static final List<String> PINNING = List.of("LISTEN jobs", "CREATE TEMP TABLE t (x int)",
            "select pg_advisory_lock(42)", "DECLARE c CURSOR WITH HOLD FOR select 1", "PREPARE q AS select 1");

    @Test
    void setResetAndSetConfigChangeTheSettingsAndReadingThemBackStartsAfresh() {
        for (String sql : List.of("SET work_mem = '4MB'", "RESET work_mem", "RESET ALL",
                "select set_config('search_path', 'a', false)", "DISCARD ALL")) {
            ClientSession session = session(PoolMode.TRANSACTION, SessionFeatures.PIN);
            assertThat(session.settingsChanged()).isFalse();
            assertThat(inspect(session, sql)).isNotNull();
            assertThat(session.settingsChanged()).as(sql).isTrue();
            session.takeSettingsQuery();
            assertThat(session.settingsChanged()).as("after the read").isFalse();
        }
        ClientSession session = session(PoolMode.TRANSACTION, SessionFeatures.PIN);
        inspect(session, "select 1; update t set x = 1");
        assertThat(session.settingsChanged()).isFalse();
        assertThat(session.leavesPlaceholders()).isFalse();
    }

    @Test
    void aDottedNameSetIsAPlaceholderCandidate() {
        ClientSession session = session(PoolMode.TRANSACTION, SessionFeatures.PIN);
        inspect(session, "set myapp.tenant = 1");
        assertThat(session.leavesPlaceholders()).isTrue();
        assertThat(session.takeSettingsQuery()).contains("ARRAY[E'myapp.tenant']");

        ClientSession other = session(PoolMode.TRANSACTION, SessionFeatures.PIN);
        inspect(other, "select set_config('app.t', 'x', false)");
        assertThat(other.settingsChanged()).isTrue();
        assertThat(other.leavesPlaceholders()).isTrue();
        assertThat(other.takeSettingsQuery()).contains("ARRAY[E'app.t']");
    }

    @Test
    void setConfigOfAComputedNameLeavesAPlaceholderNoReadCanFind() {
        ClientSession session = session(PoolMode.TRANSACTION, SessionFeatures.PIN);
        inspect(session, "select set_config(name, 'x', false) from names");
        assertThat(session.settingsChanged()).isTrue();
        assertThat(session.leavesPlaceholders()).isTrue();
        // false before the backend is looked at: no backend's settings can show what the client defined
        assertThat(session.canUse(null)).isFalse();
    }

    @Test
    void sessionFeaturesPinTheClientInTransactionMode() {
        for (String sql : PINNING) {
            ClientSession session = session(PoolMode.TRANSACTION, SessionFeatures.PIN);
            assertThat(session.releasesWhenIdle()).isTrue();
            ClientSession.Verdict verdict = inspect(session, sql);
            assertThat(verdict.refusal()).as(sql).isNull();
            assertThat(session.pinnedBy()).as(sql).isNotNull();
            assertThat(session.releasesWhenIdle()).as(sql).isFalse();
        }
    }

    @Test
    void sessionFeaturesAreRefusedWithErrorNamingTheMode() {
        for (PoolMode mode : List.of(PoolMode.TRANSACTION, PoolMode.STATEMENT)) {
            String name = mode == PoolMode.TRANSACTION ? "transaction" : "statement";
            for (String sql : PINNING) {
                ClientSession session = session(mode, SessionFeatures.ERROR);
                ClientSession.Verdict verdict = inspect(session, sql);
                assertThat(verdict.refusal()).as(sql).endsWith("is not allowed in " + name + " pooling mode");
                assertThat(session.pinnedBy()).as(sql).isNull();
                assertThat(session.releasesWhenIdle()).as(sql).isTrue();
            }
        }
    }

    @Test
    void statementModeRefusesTransactionBlocks() {
        for (String sql : List.of("BEGIN", "begin isolation level serializable", "START TRANSACTION",
                "select 1; BEGIN")) {
            ClientSession session = session(PoolMode.STATEMENT, SessionFeatures.PIN);
            assertThat(inspect(session, sql).refusal()).as(sql)
                    .isEqualTo("transaction blocks are not allowed in statement pooling mode");
        }
        assertThat(inspect(session(PoolMode.TRANSACTION, SessionFeatures.PIN), "BEGIN").refusal()).isNull();
        assertThat(inspect(session(PoolMode.STATEMENT, SessionFeatures.PIN), "COMMIT").refusal()).isNull();
    }

    @Test
    void discardAllAndDeallocateAllForgetThePreparedStatements() {
        for (String sql : List.of("DISCARD ALL", "DEALLOCATE ALL", "deallocate prepare all", "select 1; discard all")) {
            assertThat(inspect(session(PoolMode.TRANSACTION, SessionFeatures.PIN), sql).forgetsPreparedStatements())
                    .as(sql).isTrue();
        }
        for (String sql : List.of("DEALLOCATE q", "DISCARD PLANS", "select 1")) {
            assertThat(inspect(session(PoolMode.TRANSACTION, SessionFeatures.PIN), sql).forgetsPreparedStatements())
                    .as(sql).isFalse();
        }
    }

    @Test
    void sessionModeOnlyWatchesForPlaceholders() {
        ClientSession session = session(PoolMode.SESSION, SessionFeatures.ERROR);
        assertThat(session.preparedStatements()).isNull();
        for (String sql : PINNING) {
            assertThat(inspect(session, sql).refusal()).as(sql).isNull();
        }
        inspect(session, "SET work_mem = '4MB'");
        assertThat(session.pinnedBy()).isNull();
        assertThat(session.settingsChanged()).isFalse();
        assertThat(session.leavesPlaceholders()).isFalse();

        inspect(session, "SET app.tenant = 1");
        assertThat(session.leavesPlaceholders()).isTrue();
        assertThat(session.releasesWhenIdle()).isFalse();
        assertThat(session(PoolMode.TRANSACTION, SessionFeatures.PIN).preparedStatements()).isNotNull();
    }

    private static ClientSession.Verdict inspect(ClientSession session, String sql) {
        return session.inspect(sql, "UTF8", true);
    }

    private static ClientSession session(PoolMode mode, SessionFeatures features) {
        return new ClientSession(new PoolConfig(mode, 8, 0, Duration.ofMinutes(10), Duration.ofHours(1),
                Duration.ofSeconds(10), Duration.ofSeconds(30), "DISCARD ALL", 100, features));
    }

    @Test
    void sessionModeLooksOnlyAtTextsThatCouldSetAPlaceholder() {
        ClientSession session = session(PoolMode.SESSION, SessionFeatures.PIN);
        java.util.function.Predicate<String> needs = sql -> {
            io.netty.buffer.ByteBuf body = io.netty.buffer.Unpooled.copiedBuffer(sql,
                    java.nio.charset.StandardCharsets.ISO_8859_1);
            try {
                return session.needsInspection(body);
            } finally {
                body.release();
            }
        };
        assertThat(needs.test("select 1")).isFalse();
        assertThat(needs.test("select t.a from t")).isFalse();
        assertThat(needs.test("SET app.tenant = 1")).isTrue();
        assertThat(needs.test("select set_config('a.b', 'x', false)")).isTrue();
        assertThat(needs.test("sEt a.b = 1")).isTrue();
        assertThat(session(PoolMode.TRANSACTION, SessionFeatures.PIN).needsInspection(
                io.netty.buffer.Unpooled.EMPTY_BUFFER)).isTrue();
    }
}
