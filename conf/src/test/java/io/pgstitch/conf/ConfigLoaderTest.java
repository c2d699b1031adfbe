package io.pgstitch.conf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    private static final Path BASE = Path.of("/etc/pgstitch");

    static final String DESIGN_EXAMPLE = """
            listen:
              host: 127.0.0.1
              port: 6432
              tls:
                mode: prefer
                cert: certs/server.crt
                key: certs/server.key
            auth:
              method: scram-sha-256
              users_file: users.txt
            admin:
              users: [admin]
              http: { host: 127.0.0.1, port: 9930 }
            shards:
              shard1:
                host: 127.0.0.1
                port: 5432
                user: postgres
                password: ${SHARD1_PASSWORD}
                tls: disable
                pool: { mode: session, size: 20 }
              shard2: { host: 10.0.0.2, user: app, pool: { mode: transaction, size: 5 } }
            routes:
              tenant_a: shard1
              tenant_b: { shard: shard2, database: tb_db }
              "org_*": shard2
            default_route: reject
            rpc:
              functions: ["iasql_*"]
              split: rpc-only
              in_transaction: reject
              pool_size: 4
              timeout: 15m
            """;

    static ProxyConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(yaml, BASE, Map.of("SHARD1_PASSWORD", "s3cret")::get);
    }

    static List<String> problems(String yaml) {
        try {
            parse(yaml);
        } catch (ConfigException e) {
            return e.problems();
        }
        throw new AssertionError("expected the configuration to be refused");
    }

    /** The README's configuration reference is what admins copy: it must stay a valid file. */
    @Test
    void theReadmeReferenceParses() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int section = readme.indexOf("## Configuration reference");
        int start = readme.indexOf("```yaml\n", section) + "```yaml\n".length();
        String yaml = readme.substring(start, readme.indexOf("```", start));
        ProxyConfig config = ConfigLoader.parse(yaml, BASE, Map.of("SHARD1_PASSWORD", "s3cret",
                "SHARD1_ADMIN_PASSWORD", "a", "APP_C_PASSWORD", "c", "TLS_KEY_PASSPHRASE", "p",
                "PGSTITCH_ADMIN_TOKEN", "t")::get);
        assertThat(config.auth().rules()).hasSize(3);
        assertThat(config.auth().authQuery()).isEqualTo(AuthQueryConfig.defaults());
        RoutingTable routes = RoutingTable.of(config);
        assertThat(routes.route("tenant_a").orElseThrow().identity().userFor("alice")).isEqualTo("postgres");
        assertThat(routes.route("tenant_b").orElseThrow().identity().userFor("alice")).isEqualTo("alice");
        assertThat(routes.route("tenant_c").orElseThrow().identity().userFor("alice")).isEqualTo("app_c");
        assertThat(config.listen().tls().clientCert()).isEqualTo(ClientCertMode.OFF); // YAML reads off as false
        assertThat(config.rpc().functions()).containsExactly("iasql_*");
        assertThat(config.admin().http().tokens()).containsExactly("t");
        assertThat(config.logFormat()).isEqualTo(LogFormat.TEXT);
    }

    @Test
    void authSettings() throws Exception {
        AuthConfig auth = parse("""
                auth:
                  method: md5
                  users_file: /etc/pgstitch/users.txt
                  allow_plaintext_password: true
                  auth_timeout: 500ms
                  rules:
                    - { database: "tenant_*", user: [alice, "svc_*"], address: 10.0.0.0/8, tls: true,
                        method: scram-sha-256 }
                    - { address: "::1", tls: false, method: trust }
                    - { user: mallory, method: reject }
                    - { address: all, tls: any, method: password }
                shards: { a: { user: u } }
                """).auth();
        assertThat(auth.method()).isEqualTo(AuthMethod.MD5);
        assertThat(auth.usersFile()).isEqualTo(Path.of("/etc/pgstitch/users.txt"));
        assertThat(auth.allowPlaintextPassword()).isTrue();
        assertThat(auth.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(auth.rules()).containsExactly(
                new AuthRule(List.of("tenant_*"), List.of("alice", "svc_*"), Cidr.parse("10.0.0.0/8"), true,
                        AuthMethod.SCRAM_SHA_256),
                new AuthRule(List.of(), List.of(), Cidr.parse("::1/128"), false, AuthMethod.TRUST),
                new AuthRule(List.of(), List.of("mallory"), null, null, AuthMethod.REJECT),
                new AuthRule(List.of(), List.of(), null, null, AuthMethod.PASSWORD));
    }

    @Test
    void authProblems() {
        String shards = "shards: { a: { user: u } }\n";
        assertThat(problems(shards + "auth: { method: reject }")).containsExactly("auth.method: unknown value "
                + "\"reject\" (expected one of: trust, password, md5, scram-sha-256)");
        assertThat(problems(shards + "auth: { method: scram-sha-256 }")).containsExactly("auth.users_file: required "
                + "when a client may be asked for a password (auth.method or a rule is password, md5 or "
                + "scram-sha-256) and auth.auth_query is not set");
        assertThat(problems(shards + "auth: { rules: [ { user: a, method: md5 } ] }")).hasSize(1);
        assertThat(problems(shards + "auth: { allow_plaintext_password: yes please }")).containsExactly(
                "auth.allow_plaintext_password: must be true or false, got \"yes please\"");
        assertThat(problems(shards + "auth: { rules: { method: trust } }"))
                .containsExactly("auth.rules: must be a list of rules, got a mapping");
        assertThat(problems(shards + "auth: { rules: [ { user: { name: x }, method: trust } ] }"))
                .containsExactly("auth.rules[0].user: must be a pattern or a list of patterns, got a mapping");
        assertThat(problems(shards + "auth: { rule: [] }")).containsExactly("auth.rule: unknown setting (expected "
                + "one of: method, users_file, allow_plaintext_password, auth_timeout, rules, auth_query)");
        assertThat(problems(shards + """
                auth:
                  rules:
                    - { database: db }
                    - trust
                    - { method: nope, host: x }
                    - { address: 10.0.0.1/8, method: trust }
                    - { address: 10.0.0.0/33, method: trust }
                    - { address: example.com, method: trust }
                    - { tls: maybe, method: trust }
                    - { user: "", database: [a, ""], method: trust }
                    - { method: ~ }
                """)).containsExactly(
                "auth.rules[0].method: required (trust, password, md5, scram-sha-256 or reject)",
                "auth.rules[1]: must be a mapping (key: value), got \"trust\"",
                "auth.rules[2].host: unknown setting (expected one of: database, user, address, tls, method)",
                "auth.rules[2].method: unknown value \"nope\" (expected one of: trust, password, md5, "
                        + "scram-sha-256, reject)",
                "auth.rules[3].address: \"10.0.0.1/8\" has bits set after the prefix (did you mean 10.0.0.0/8?) "
                        + "(expected an address, an address/prefix such as 10.0.0.0/8 or ::1/128, or all)",
                "auth.rules[4].address: \"33\" is not a prefix length between 0 and 32 (expected an address, an "
                        + "address/prefix such as 10.0.0.0/8 or ::1/128, or all)",
                "auth.rules[5].address: \"example.com\" is not an IPv4 or IPv6 address (expected an address, an "
                        + "address/prefix such as 10.0.0.0/8 or ::1/128, or all)",
                "auth.rules[6].tls: unknown value \"maybe\" (expected one of: true, false, any)",
                "auth.rules[7].database[1]: empty pattern",
                "auth.rules[7].user: empty pattern",
                "auth.rules[8].method: required (trust, password, md5, scram-sha-256 or reject)");
    }

    @Test
    void loadingAFileReadsItsUsersFileToo(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("pgstitch.yaml"),
                "auth: { method: md5, users_file: users.txt }\nshards: { a: { user: u } }\n");
        assertThatThrownBy(() -> ConfigLoader.load(config)).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.problems()).singleElement().asString()
                        .startsWith("auth.users_file: " + dir.resolve("users.txt") + ": cannot be read"));
        Files.writeString(dir.resolve("users.txt"), "\"alice\" \"s3cret\"\n\"alice\" \"again\"\n");
        assertThatThrownBy(() -> ConfigLoader.load(config)).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.problems()).containsExactly("auth.users_file: " + dir.resolve("users.txt")
                        + ":2: user \"alice\" is listed twice (first at line 1)"));
        Files.writeString(dir.resolve("users.txt"), "\"alice\" \"s3cret\"\n");
        assertThat(ConfigLoader.load(config).auth().usersFile()).isEqualTo(dir.resolve("users.txt"));
    }

    @Test
    void clientCertificateSettings() throws Exception {
        ListenTlsConfig tls = parse("""
                listen:
                  tls: { mode: require, cert: server.crt, key: server.key, ca: ca.pem, client_cert: verify-full }
                shards: { a: { user: u } }
                """).listen().tls();
        assertThat(tls).isEqualTo(new ListenTlsConfig(ListenTlsMode.REQUIRE, BASE.resolve("server.crt"),
                BASE.resolve("server.key"), null, BASE.resolve("ca.pem"), ClientCertMode.VERIFY_FULL));
        String shards = "shards: { a: { user: u } }\n";
        assertThat(problems(shards + "listen: { tls: { mode: require, client_cert: verify-ca } }"))
                .containsExactly("listen.tls.client_cert: verify-ca needs listen.tls.ca, the CA bundle client "
                        + "certificates are checked against");
        assertThat(problems(shards + "listen: { tls: { ca: ca.pem, client_cert: verify-full } }"))
                .containsExactly("listen.tls.client_cert: verify-full needs listen.tls.mode require (a client "
                        + "without TLS would skip the certificate check), got prefer");
        assertThat(problems(shards + "listen: { tls: { mode: require, ca: ca.pem, client_cert: always } }"))
                .containsExactly("listen.tls.client_cert: unknown value \"always\" (expected one of: off, "
                        + "verify-ca, verify-full)", "listen.tls.ca: only used with client_cert verify-ca or verify-full");
        assertThat(problems(shards + "listen: { tls: { key_passphrase: x } }")).containsExactly(
                "listen.tls.key_passphrase: given without a key (the self-signed certificate needs none)");
    }

    @Test
    void theDesignExampleParses() throws Exception {
        ProxyConfig config = parse(DESIGN_EXAMPLE);
        assertThat(config.listen()).isEqualTo(new ListenConfig("127.0.0.1", 6432, new ListenTlsConfig(
                ListenTlsMode.PREFER, BASE.resolve("certs/server.crt"), BASE.resolve("certs/server.key")), 1000, 0, Duration.ofSeconds(30),
                64 << 20));
        assertThat(config.auth()).isEqualTo(new AuthConfig(AuthMethod.SCRAM_SHA_256, BASE.resolve("users.txt"),
                false, Duration.ofSeconds(15), List.of()));
        assertThat(parse("auth: { auth_timeout: 2s }\nshards: { a: { user: u } }").auth().timeout())
                .isEqualTo(Duration.ofSeconds(2));
        assertThat(config.admin()).isEqualTo(new AdminConfig(List.of("admin"), new HttpEndpoint("127.0.0.1", 9930)));
        assertThat(config.shards()).containsOnlyKeys("shard1", "shard2");
        assertThat(config.shards().get("shard1")).isEqualTo(new ShardConfig("shard1", "127.0.0.1", 5432, "postgres",
                "s3cret", ShardTlsMode.DISABLE, PoolConfig.defaults()));
        PoolConfig transaction = new PoolConfig(PoolMode.TRANSACTION, 5, 0, Duration.ofMinutes(10), Duration.ofHours(1),
                Duration.ofSeconds(10), Duration.ofSeconds(30), "DISCARD ALL");
        assertThat(config.shards().get("shard2")).isEqualTo(new ShardConfig("shard2", "10.0.0.2", 5432, "app",
                null, ShardTlsMode.DISABLE, transaction));
        assertThat(config.routes()).containsExactly(new RouteConfig("tenant_a", "shard1", null),
                new RouteConfig("tenant_b", "shard2", "tb_db"), new RouteConfig("org_*", "shard2", null));
        assertThat(config.defaultRoute()).isEqualTo(new DefaultRoute.Reject());
        assertThat(config.rpc()).isEqualTo(new RpcConfig(List.of("iasql_*"), RpcSplit.RPC_ONLY,
                RpcInTransaction.REJECT, 4, Duration.ofMinutes(15)));
    }

    @Test
    void defaultsForAMinimalFile() throws Exception {
        ProxyConfig config = parse("shards: { s: { user: u } }");
        assertThat(config.listen()).isEqualTo(new ListenConfig("127.0.0.1", 6432,
                new ListenTlsConfig(ListenTlsMode.PREFER, null, null), 1000, 0, Duration.ofSeconds(30), 64 << 20));
        assertThat(config.auth().method()).isEqualTo(AuthMethod.TRUST);
        assertThat(config.defaultRoute()).isEqualTo(new DefaultRoute.Reject());
        assertThat(config.rpc().timeout()).isEqualTo(Duration.ofMinutes(15));
        assertThat(config.shards().get("s").port()).isEqualTo(5432);
    }

    @Test
    void defaultRouteForms() throws Exception {
        String shards = "shards: { a: { user: u }, b: { user: u } }\n";
        assertThat(parse(shards + "default_route: a").defaultRoute()).isEqualTo(new DefaultRoute.ToShard("a"));
        assertThat(parse(shards + "default_route: { hash: [a, b] }").defaultRoute())
                .isEqualTo(new DefaultRoute.Hash(List.of("a", "b")));
    }

    @Test
    void poolSettings() throws Exception {
        PoolConfig pool = parse("""
                shards:
                  a:
                    user: u
                    pool: { size: 5, min_idle: 2, idle_timeout: 30s, max_lifetime: 10m, connect_timeout: 2s,
                            wait_timeout: 500ms, server_reset_query: "RESET ALL" }
                """).shards().get("a").pool();
        assertThat(pool).isEqualTo(new PoolConfig(PoolMode.SESSION, 5, 2, Duration.ofSeconds(30),
                Duration.ofMinutes(10), Duration.ofSeconds(2), Duration.ofMillis(500), "RESET ALL"));
        assertThat(problems("shards: { a: { user: u, pool: { size: 2, min_idle: 3 } } }"))
                .containsExactly("shards.a.pool.min_idle: must not exceed size (2), got 3");
    }

    @Test
    void durations() throws Exception {
        String shards = "shards: { a: { user: u } }\n";
        assertThat(parse(shards + "rpc: { timeout: 250ms }").rpc().timeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(parse(shards + "rpc: { timeout: 30s }").rpc().timeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(parse(shards + "rpc: { timeout: 2h }").rpc().timeout()).isEqualTo(Duration.ofHours(2));
        assertThat(parse(shards + "rpc: { timeout: 90 }").rpc().timeout()).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void unknownShardInARoute() {
        assertThat(problems("""
                shards: { shard1: { user: u }, shard2: { user: u } }
                routes:
                  tenant_b: { shard: shard9, database: tb_db }
                """)).containsExactly("routes.tenant_b.shard: unknown shard \"shard9\" (shards: shard1, shard2)");
        assertThat(problems("shards: { shard1: { user: u } }\nroutes: { t: nope }"))
                .containsExactly("routes.t: unknown shard \"nope\" (shards: shard1)");
    }

    @Test
    void portOutOfRange() {
        assertThat(problems("listen: { port: 70000 }\nshards: { a: { user: u } }"))
                .containsExactly("listen.port: must be between 0 and 65535, got 70000");
        assertThat(problems("listen: { port: abc }\nshards: { a: { user: u } }"))
                .containsExactly("listen.port: must be a whole number, got \"abc\"");
    }

    @Test
    void maxMessageSize() throws Exception {
        String shards = "shards: { a: { user: u } }\n";
        assertThat(parse(shards + "listen: { max_message_size: 256MB }").listen().maxMessageSize())
                .isEqualTo(256 << 20);
        assertThat(parse(shards + "listen: { max_message_size: 512kB }").listen().maxMessageSize())
                .isEqualTo(512 << 10);
        assertThat(parse(shards + "listen: { max_message_size: 100000 }").listen().maxMessageSize())
                .isEqualTo(100_000);
        assertThat(parse(shards + "listen: { max_message_size: 1GB }").listen().maxMessageSize())
                .as("PostgreSQL's own limit").isEqualTo(0x3fffffff - 1);
        assertThat(problems(shards + "listen: { max_message_size: 2GB }")).containsExactly("listen.max_message_size: "
                + "must be a size from 65536 to 1073741822 bytes, such as 512kB, 64MB or 1GB, got \"2GB\"");
        assertThat(problems(shards + "listen: { max_message_size: 1kB }")).hasSize(1);
        assertThat(problems(shards + "listen: { max_message_size: 64 MiB }")).hasSize(1);
    }

    @Test
    void unknownKeysAreNamed() {
        assertThat(problems("listen: { prot: 1 }\nshards: { a: { user: u } }"))
                .containsExactly("listen.prot: unknown setting (expected one of: host, port, tls, "
                        + "max_client_connections, max_client_connections_per_database, shutdown_timeout, "
                        + "max_message_size)");
        assertThat(problems("shards: { a: { user: u, pool: { sise: 3 } } }"))
                .containsExactly("shards.a.pool.sise: unknown setting (expected one of: mode, size, min_idle, "
                        + "idle_timeout, max_lifetime, max_prepared_statements, session_features, connect_timeout, "
                        + "wait_timeout, server_reset_query)");
        assertThat(problems("shard: {}\nshards: { a: { user: u } }"))
                .containsExactly("shard: unknown setting (expected one of: listen, auth, admin, shards, routes, "
                        + "default_route, rpc, http, logging)");
    }

    @Test
    void unknownEnumValuesListTheAllowedOnes() {
        assertThat(problems("auth: { method: plaintext }\nshards: { a: { user: u } }"))
                .containsExactly("auth.method: unknown value \"plaintext\" (expected one of: trust, password, md5, "
                        + "scram-sha-256)");
    }

    @Test
    void theKeyPassphraseComesFromTheEnvironmentAndIsNeverPrinted() throws Exception {
        ListenTlsConfig tls = parse("""
                listen: { tls: { cert: a.crt, key: a.key, key_passphrase: '${SHARD1_PASSWORD}' } }
                shards: { a: { user: u } }
                """).listen().tls();
        assertThat(tls.keyPassphrase()).isEqualTo("s3cret");
        assertThat(tls.toString()).doesNotContain("s3cret").contains("keyPassphrase=***");
    }

    @Test
    void verifyingShardTlsNeedsACaFile() throws Exception {
        assertThat(problems("shards: { a: { user: u, tls: verify-full } }")).containsExactly(
                "shards.a.tls_ca: required with tls: verify-full (the CA file the shard's certificate must chain to)");
        assertThat(parse("shards: { a: { user: u, tls: verify-ca, tls_ca: ca.pem } }").shards().get("a").tlsCa())
                .isEqualTo(BASE.resolve("ca.pem"));
    }

    @Test
    void missingEnvironmentVariable() {
        assertThat(problems("shards: { shard1: { user: u, password: '${NOT_SET_ANYWHERE}' } }"))
                .containsExactly("shards.shard1.password: environment variable NOT_SET_ANYWHERE is not set");
    }

    @Test
    void hashDefaultProblems() {
        assertThat(problems("shards: { a: { user: u } }\ndefault_route: { hash: [a, x, a] }"))
                .containsExactly("default_route.hash[1]: unknown shard \"x\" (shards: a)",
                        "default_route.hash[2]: shard \"a\" is listed twice");
        assertThat(problems("shards: { a: { user: u } }\ndefault_route: nowhere")).singleElement().asString()
                .startsWith("default_route: unknown shard \"nowhere\"");
    }

    @Test
    void shardsAreRequired() {
        assertThat(problems("listen: { port: 1 }")).containsExactly("shards: at least one shard is required");
        assertThat(problems("shards: { 'bad name': { user: u } }")).containsExactly(
                "shards.bad name: a shard name may use only letters, digits, '_' and '-'");
    }

    @Test
    void withoutAUserClientsReachTheShardAsThemselves() throws Exception {
        ProxyConfig config = parse("shards: { a: { host: h } }\nroutes: { t: a }");
        ShardConfig shard = config.shards().get("a");
        assertThat(shard.user()).isNull();
        assertThat(shard.identity()).isEqualTo(BackendIdentity.CLIENT_USER);
        BackendIdentity identity = RoutingTable.of(config).route("t").orElseThrow().identity();
        assertThat(identity).isInstanceOf(BackendIdentity.ClientUser.class);
        assertThat(identity.userFor("alice")).isEqualTo("alice");
    }

    /** Files written before clients could reach shards as themselves keep their meaning. */
    @Test
    void theShardsUserIsAForcedUser() throws Exception {
        ShardConfig shard = parse(DESIGN_EXAMPLE).shards().get("shard1");
        assertThat(shard.identity()).isEqualTo(new BackendIdentity.Forced("postgres", "s3cret", "shards.shard1"));
        assertThat(shard.identity().userFor("alice")).isEqualTo("postgres");
        assertThat(parse("shards: { a: { user: app } }").shards().get("a").identity())
                .isEqualTo(new BackendIdentity.Forced("app", null, "shards.a"));
    }

    @Test
    void aRouteMayForceAUserOfItsOwn() throws Exception {
        ProxyConfig config = parse("""
                shards: { shard1: { user: app }, shard2: {} }
                routes:
                  tenant_a: shard2
                  tenant_b: { shard: shard2, database: tb_db, user: app_b, password: '${SHARD1_PASSWORD}' }
                  tenant_c: { shard: shard1, user: app_c }
                """);
        BackendIdentity.Forced appB = new BackendIdentity.Forced("app_b", "s3cret", "routes.tenant_b");
        assertThat(config.routes()).contains(new RouteConfig("tenant_b", "shard2", "tb_db", appB));
        RoutingTable table = RoutingTable.of(config);
        assertThat(table.route("tenant_a").orElseThrow().identity()).isEqualTo(BackendIdentity.CLIENT_USER);
        Route tenantB = table.route("tenant_b").orElseThrow();
        assertThat(tenantB.identity()).isEqualTo(appB);
        assertThat(tenantB.identity().userFor("alice")).isEqualTo("app_b");
        assertThat(table.route("tenant_c").orElseThrow().identity())
                .as("the route's user wins over the shard's")
                .isEqualTo(new BackendIdentity.Forced("app_c", null, "routes.tenant_c"));
    }

    @Test
    void identityProblems() {
        String long64 = "u".repeat(64);
        assertThat(problems("""
                shards:
                  a: { password: p, admin_password: q }
                  b: { user: '', admin_user: %s }
                routes:
                  t: { shard: a, password: p }
                  u: { shard: a, user: '' }
                  v: { shard: a, pass: p }
                """.formatted(long64))).containsExactly(
                "shards.a.password: given without user (whose password it would be)",
                "shards.a.admin_password: given without admin_user (whose password it would be)",
                "shards.b.user: empty user name",
                "shards.b.admin_user: user name is 64 bytes long, the limit is 63",
                "routes.t.password: given without user (whose password it would be)",
                "routes.u.user: empty user name",
                "routes.v.pass: unknown setting (expected one of: shard, database, user, password, pool)");
        assertThat(problems("shards: { a: {} }\nroutes: { t: [a] }"))
                .containsExactly("routes.t: must be a shard name or { shard: ..., database: ..., user: ... }");
    }

    @Test
    void authQuerySettings() throws Exception {
        ProxyConfig config = parse("""
                auth: { method: scram-sha-256, auth_query: {} }
                shards: { a: { admin_user: pgstitch, admin_password: '${SHARD1_PASSWORD}' } }
                default_route: a
                """);
        assertThat(config.auth().usersFile()).as("auth_query can stand in for the users file").isNull();
        assertThat(config.auth().authQuery()).isEqualTo(AuthQueryConfig.defaults());
        assertThat(config.auth().authQuery().query())
                .isEqualTo("SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = $1");
        assertThat(config.auth().authQuery().cacheTtl()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.auth().authQuery().cacheSize()).isEqualTo(10_000);
        assertThat(config.shards().get("a").adminUser()).isEqualTo("pgstitch");
        assertThat(config.shards().get("a").adminPassword()).isEqualTo("s3cret");
        String query = "SELECT usename, passwd FROM pgstitch.lookup($1)";
        assertThat(parse("""
                auth:
                  auth_query: { query: "%s", cache_ttl: 5m, cache_size: 50 }
                shards: { a: { admin_user: pgstitch } }
                """.formatted(query)).auth().authQuery())
                .isEqualTo(new AuthQueryConfig(query, Duration.ofMinutes(5), 50));
        assertThat(parse("shards: { a: {} }").auth().authQuery()).as("off unless set").isNull();
        assertThat(parse("auth: { auth_query: ~ }\nshards: { a: {} }").auth().authQuery()).isNull();
    }

    private static final String NEEDS_ADMIN_USER = "required because auth.auth_query is set (the role that looks "
            + "users up on this shard)";

    @Test
    void authQueryNeedsALookupRoleOnEveryShardAClientMayReach() {
        assertThat(problems("""
                auth: { auth_query: {} }
                shards: { s1: {}, s2: { admin_user: pgstitch }, s3: {}, s4: {}, unused: {} }
                routes: { t: s1, "o*": { shard: s2 } }
                default_route: { hash: [s3, s4] }
                """)).containsExactly("shards.s1.admin_user: " + NEEDS_ADMIN_USER,
                "shards.s3.admin_user: " + NEEDS_ADMIN_USER, "shards.s4.admin_user: " + NEEDS_ADMIN_USER);
        assertThat(problems("auth: { auth_query: {} }\nshards: { s1: {} }\ndefault_route: s1"))
                .containsExactly("shards.s1.admin_user: " + NEEDS_ADMIN_USER);
    }

    @Test
    void authQueryProblems() {
        String shards = "shards: { a: { admin_user: x } }\n";
        assertThat(problems(shards + "auth: { auth_query: { query: \"SELECT usename, passwd FROM pg_shadow\" } }"))
                .containsExactly("auth.auth_query.query: must use $1 where the user name goes");
        assertThat(problems(shards + "auth: { auth_query: { query: '' } }"))
                .containsExactly("auth.auth_query.query: must not be empty");
        assertThat(problems(shards + "auth: { auth_query: { cache_size: 0, cache_ttl: never, ttl: 1s } }"))
                .containsExactly(
                        "auth.auth_query.ttl: unknown setting (expected one of: query, cache_ttl, cache_size)",
                        "auth.auth_query.cache_ttl: must be a positive duration such as 250ms, 30s, 15m or 2h, got "
                                + "\"never\"",
                        "auth.auth_query.cache_size: must be between 1 and 10000000, got 0");
        assertThat(problems(shards + "auth: { auth_query: \"SELECT 1\" }"))
                .containsExactly("auth.auth_query: must be a mapping (key: value), got \"SELECT 1\"");
    }

    @Test
    void routeNamesAreLimitedLikePostgresNames() {
        String key = "x".repeat(64);
        assertThat(problems("shards: { a: { user: u } }\nroutes: { " + key + ": a }"))
                .containsExactly("routes." + key + ": route is 64 bytes long, the limit is 63");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        List<String> problems = problems("""
                listen: { port: -1, extra: 1 }
                auth: { method: nope }
                shards: { a: { user: u, port: 0 } }
                routes: { t: b }
                rpc: { pool_size: 0, timeout: soon }
                """);
        assertThat(problems).containsExactlyInAnyOrder(
                "listen.port: must be between 0 and 65535, got -1",
                "listen.extra: unknown setting (expected one of: host, port, tls, max_client_connections, "
                        + "max_client_connections_per_database, shutdown_timeout, max_message_size)",
                "auth.method: unknown value \"nope\" (expected one of: trust, password, md5, scram-sha-256)",
                "shards.a.port: must be between 1 and 65535, got 0",
                "routes.t: unknown shard \"b\" (shards: a)",
                "rpc.pool_size: must be between 1 and 10000, got 0",
                "rpc.timeout: must be a positive duration such as 250ms, 30s, 15m or 2h, got \"soon\"");
    }

    @Test
    void yamlSyntaxErrorsGiveALine() {
        assertThatThrownBy(() -> parse("listen:\n  port: [1,\n"))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).singleElement()
                        .asString().startsWith("YAML syntax error at line"));
    }

    @Test
    void anEmptyFile() {
        assertThat(problems("")).containsExactly("the file is empty");
    }

    @Test
    void passwordsNeverAppearInToString() throws Exception {
        assertThat(parse(DESIGN_EXAMPLE).shards().get("shard1").toString()).doesNotContain("s3cret");
        ProxyConfig config = parse("""
                shards:
                  a: { user: app, password: '${SHARD1_PASSWORD}', admin_user: x, admin_password: '${SHARD1_PASSWORD}' }
                routes: { t: { shard: a, user: b, password: '${SHARD1_PASSWORD}' } }
                """);
        assertThat(config.toString()).doesNotContain("s3cret");
        assertThat(RoutingTable.of(config).route("t").orElseThrow().toString()).doesNotContain("s3cret")
                .contains("password=***");
    }
}
