package io.pgstitch.conf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RoutingTableTest {

    private static RoutingTable table(String yaml) throws ConfigException {
        return RoutingTable.of(ConfigLoaderTest.parse(yaml));
    }

    private static final String SHARDS = "shards: { s1: { user: u }, s2: { user: u }, s3: { user: u } }\n";

    @Test
    void exactBeatsGlobAndLongerGlobBeatsShorter() throws Exception {
        RoutingTable table = table(SHARDS + """
                routes:
                  "org_*": s1
                  "org_acme_*": s2
                  org_acme_x: s3
                  "org_??": { shard: s3, database: single }
                """);
        assertThat(table.route("org_acme_x").orElseThrow()).isEqualTo(new Route("org_acme_x",
                table.route("org_acme_x").orElseThrow().shard(), "org_acme_x", "exact"));
        assertThat(table.route("org_acme_x").orElseThrow().shard().name()).isEqualTo("s3");
        assertThat(table.route("org_acme_y").orElseThrow().shard().name()).isEqualTo("s2");
        assertThat(table.route("org_acme_y").orElseThrow().matchedBy()).isEqualTo("pattern \"org_acme_*\"");
        assertThat(table.route("org_bc").orElseThrow().backendDatabase()).isEqualTo("single");
        assertThat(table.route("org_bcd").orElseThrow().shard().name()).isEqualTo("s1");
        assertThat(table.route("other")).isEmpty();
    }

    @Test
    void equalLengthPatternsKeepFileOrder() throws Exception {
        RoutingTable table = table(SHARDS + "routes:\n  \"a*\": s1\n  \"*b\": s2\n");
        assertThat(table.route("ab").orElseThrow().shard().name()).isEqualTo("s1");
    }

    @Test
    void defaultToAShard() throws Exception {
        Route route = table(SHARDS + "default_route: s2").route("anything").orElseThrow();
        assertThat(route.shard().name()).isEqualTo("s2");
        assertThat(route.backendDatabase()).isEqualTo("anything");
        assertThat(route.matchedBy()).isEqualTo("default");
    }

    @Test
    void hashIsStableAcrossRuns() throws Exception {
        RoutingTable table = table(SHARDS + "default_route: { hash: [s1, s2, s3] }");
        // Pinned values: a changed hash function would move the tenants of a running deployment.
        assertThat(List.of("tenant_1", "tenant_2", "tenant_3", "acme", "globex").stream()
                .map(name -> table.route(name).orElseThrow().shard().name()).toList())
                .containsExactly("s3", "s3", "s2", "s1", "s3");
        assertThat(RoutingTable.hash64("")).isEqualTo(-1166397803181037274L);
        assertThat(RoutingTable.hash64("s1\0tenant_1")).isEqualTo(3175562664678207699L);
    }

    @Test
    void addingAShardMovesOnlyWhatLandsOnIt() {
        int moved = 0;
        int total = 10_000;
        for (int i = 0; i < total; i++) {
            String name = "tenant_" + i;
            String before = RoutingTable.rendezvous(List.of("s1", "s2"), name);
            String after = RoutingTable.rendezvous(List.of("s1", "s2", "s3"), name);
            if (!after.equals(before)) {
                assertThat(after).as("a name only ever moves to the new shard").isEqualTo("s3");
                moved++;
            }
        }
        assertThat(moved).as("about a third moves").isBetween(total / 3 - 400, total / 3 + 400);
    }

    @Test
    void hashSpreadsEvenly() {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 9_000; i++) {
            counts.merge(RoutingTable.rendezvous(List.of("s1", "s2", "s3"), "db" + i), 1, Integer::sum);
        }
        assertThat(counts.values()).allSatisfy(count -> assertThat(count).isBetween(2_700, 3_300));
    }

    @Test
    @Timeout(5)
    void adversarialGlobsStayFast() {
        String pattern = "*a".repeat(30) + "*b";
        String text = "a".repeat(10_000);
        assertThat(Glob.matches(pattern, text)).isFalse();
        assertThat(Glob.matches(pattern, text + "b")).isTrue();
    }

    @Test
    void globBasics() {
        assertThat(Glob.matches("org_*", "org_")).isTrue();
        assertThat(Glob.matches("org_*", "org")).isFalse();
        assertThat(Glob.matches("a?c", "abc")).isTrue();
        assertThat(Glob.matches("a?c", "ac")).isFalse();
        assertThat(Glob.matches("*", "")).isTrue();
        assertThat(Glob.matches("a*b*c", "a_b_x_c")).isTrue();
        assertThat(Glob.matches("ORG_*", "org_a")).as("database names are case-sensitive").isFalse();
    }

    @Test
    void describeListsEveryRouteAndTheDefault() throws Exception {
        List<String> lines = table(SHARDS + "routes:\n  t: s1\n  \"o*\": { shard: s2 }\n").describe();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).startsWith("t ").contains("-> s1 (127.0.0.1:5432) database t as forced user \"u\"");
        assertThat(lines.get(1)).contains("-> s2").contains("[pattern]");
        assertThat(lines.get(2)).isEqualTo("(default) -> reject (FATAL 3D000)");
    }

    @Test
    void describeNamesWhomEachRouteReachesItsShardAs() throws Exception {
        List<String> lines = table("""
                shards: { shard1: {}, shard2: { user: app } }
                routes:
                  tenant_a: shard1
                  tenant_b: { shard: shard1, database: tb_db, user: app_b, password: secret }
                  tenant_c: shard2
                default_route: { hash: [shard1, shard2] }
                """).describe();
        assertThat(lines).containsExactly(
                "tenant_a -> shard1 (127.0.0.1:5432) database tenant_a as the client's user, session pooling (20)",
                "tenant_b -> shard1 (127.0.0.1:5432) database tb_db as forced user \"app_b\" "
                        + "(from routes.tenant_b.user), session pooling (20)",
                "tenant_c -> shard2 (127.0.0.1:5432) database tenant_c as forced user \"app\" "
                        + "(from shards.shard2.user), session pooling (20)",
                "(default) -> rendezvous hash over shard1, shard2, database = database ID, on shard1 as the client's "
                        + "user; on shard2 as forced user \"app\" (from shards.shard2.user)");
        assertThat(table("shards: { s: {} }\ndefault_route: s").describe())
                .containsExactly("(default) -> s, database = database ID, as the client's user");
    }

    @Test
    void aRouteMayHaveAPoolModeAndSizeOfItsOwn() throws Exception {
        RoutingTable routes = table("""
                shards: { shard1: { pool: { mode: transaction, size: 8, max_prepared_statements: 50 } } }
                routes:
                  plain: shard1
                  stmt: { shard: shard1, pool: { mode: statement } }
                  small: { shard: shard1, pool: { size: 2 } }
                """);
        assertThat(routes.route("plain").orElseThrow().pool().mode()).isEqualTo(PoolMode.TRANSACTION);
        assertThat(routes.route("stmt").orElseThrow().pool().mode()).isEqualTo(PoolMode.STATEMENT);
        assertThat(routes.route("stmt").orElseThrow().pool().size()).isEqualTo(8);
        assertThat(routes.route("small").orElseThrow().pool().size()).isEqualTo(2);
        assertThat(routes.route("small").orElseThrow().pool().maxPreparedStatements()).isEqualTo(50);
    }
}
