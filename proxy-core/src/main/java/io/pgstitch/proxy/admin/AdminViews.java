package io.pgstitch.proxy.admin;

import io.pgstitch.conf.DefaultRoute;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.conf.RouteConfig;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.proxy.frontend.LiveClient;
import io.pgstitch.proxy.metrics.TrafficStats;
import io.pgstitch.proxy.metrics.TrafficStats.DatabaseTotals;
import io.pgstitch.proxy.pool.BackendPool;
import io.pgstitch.proxy.pool.PoolKey;
import io.pgstitch.proxy.pool.PooledBackend;
import io.pgstitch.proxy.rpc.RpcMetrics;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The admin service's tables, one per SHOW command. Where PgBouncer has the command, its columns come first, in
 * its order and with its meaning (PgBouncer 1.18's, checked against a real one in a test), and pgstitch's own
 * columns follow. Any thread: everything read here is a snapshot of concurrent state.
 */
public final class AdminViews {

    /** What the tables read besides the runtime. */
    public record Sources(TrafficStats traffic, RpcMetrics rpc, String version) {
    }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private final AdminService.Runtime runtime;
    private final Sources sources;
    private final ShardHealth health;
    private final AdminService service;
    private volatile Map<String, DatabaseTotals> periodStart = Map.of();
    private volatile Map<String, DatabaseTotals> lastPeriod = Map.of();

    AdminViews(AdminService.Runtime runtime, Sources sources, ShardHealth health, AdminService service) {
        this.runtime = runtime;
        this.sources = sources;
        this.health = health;
        this.service = service;
    }

    public String version() {
        return sources.version();
    }

    /** The configuration in force. */
    public ProxyConfig configNow() {
        return runtime.config().get();
    }

    public List<LiveClient> liveClients() {
        return runtime.clients().all();
    }

    public int shardConnections(String shard) {
        return runtime.pools().shardConnections(shard);
    }

    /** Every stats period: what happened in the one that ended becomes SHOW STATS's averages. */
    void rollStatsPeriod() {
        Map<String, DatabaseTotals> now = new HashMap<>();
        sources.traffic().databases().forEach(totals -> now.put(totals.database(), totals));
        Map<String, DatabaseTotals> previous = periodStart;
        Map<String, DatabaseTotals> deltas = new HashMap<>();
        now.forEach((database, totals) -> deltas.put(database, totals.minus(previous.get(database))));
        lastPeriod = deltas;
        periodStart = now;
    }

    public Table pools() {
        Table table = Table.of("database", "user", "cl_active#", "cl_waiting#", "cl_active_cancel_req#",
                "cl_waiting_cancel_req#", "sv_active#", "sv_active_cancel#", "sv_being_canceled#", "sv_idle#",
                "sv_used#", "sv_tested#", "sv_login#", "maxwait#", "maxwait_us#", "pool_mode", "shard", "purpose",
                "pool_size#");
        Map<BackendPool, Integer> active = new HashMap<>();
        Map<BackendPool, Integer> held = new HashMap<>();
        for (LiveClient client : runtime.clients().all()) {
            PooledBackend server = client.server();
            if (server != null) { // a client held by PAUSE keeps its server and waits: cl_waiting, as in PgBouncer
                (client.phase() == LiveClient.Phase.WAITING ? held : active).merge(server.pool(), 1, Integer::sum);
            }
        }
        for (BackendPool pool : runtime.pools().pools()) {
            PoolKey key = pool.key();
            int open = pool.openConnections();
            int idle = pool.idleConnections();
            int inUse = pool.inUse();
            long maxWaitMicros = TimeUnit.NANOSECONDS.toMicros(pool.maxWaitNanos());
            table.row(key.database(), key.user(), active.getOrDefault(pool, 0),
                    pool.waiting() + held.getOrDefault(pool, 0), 0, 0, inUse, 0, 0,
                    idle, 0, 0, Math.max(0, open - idle - inUse), maxWaitMicros / 1_000_000, maxWaitMicros % 1_000_000,
                    key.purpose() == PoolKey.Purpose.RPC ? "rpc" : key.config().mode().spelling(), key.shard().name(),
                    key.purpose() == PoolKey.Purpose.RPC ? "rpc" : "session", key.config().size());
        }
        return table;
    }

    /**
     * Why clients wait, for the status: each full pool with clients queued for a connection, and each paused
     * database. A client PAUSE holds is not in a pool's queue, so a pause is never mistaken for saturation.
     */
    public List<String> waitWarnings() {
        List<String> warnings = new ArrayList<>();
        for (BackendPool pool : runtime.pools().pools()) {
            int queued = pool.waiting();
            if (queued > 0) {
                PoolKey key = pool.key();
                warnings.add("pool of shard " + key.shard().name() + ", database " + key.database() + ", user "
                        + key.user() + " is saturated: " + queued + " waiting for a connection");
            }
        }
        if (runtime.pauses().allPaused()) {
            warnings.add("every database is paused: new transactions wait until RESUME");
        }
        for (String database : runtime.pauses().pausedDatabases()) {
            warnings.add("database " + database + " is paused: its new transactions wait until RESUME");
        }
        return warnings;
    }

    public Table stats() {
        Table table = Table.of("database", "total_xact_count#", "total_query_count#", "total_received#",
                "total_sent#", "total_xact_time#", "total_query_time#", "total_wait_time#", "avg_xact_count#",
                "avg_query_count#", "avg_recv#", "avg_sent#", "avg_xact_time#", "avg_query_time#", "avg_wait_time#");
        Map<String, DatabaseTotals> period = lastPeriod;
        long seconds = AdminService.STATS_PERIOD_SECONDS;
        for (DatabaseTotals totals : sources.traffic().databases()) {
            DatabaseTotals last = period.get(totals.database());
            long xacts = last == null ? 0 : last.transactions();
            long queries = last == null ? 0 : last.queries();
            table.row(totals.database(), totals.transactions(), totals.queries(), totals.received(), totals.sent(),
                    totals.transactionMicros(), totals.queryMicros(), totals.waitMicros(), xacts / seconds,
                    queries / seconds, last == null ? 0 : last.received() / seconds,
                    last == null ? 0 : last.sent() / seconds, xacts == 0 ? 0 : last.transactionMicros() / xacts,
                    queries == 0 ? 0 : last.queryMicros() / queries, xacts == 0 ? 0 : last.waitMicros() / xacts);
        }
        return table;
    }

    public Table clients() {
        Table table = Table.of("type", "user", "database", "state", "addr", "port#", "local_addr", "local_port#",
                "connect_time", "request_time", "wait#", "wait_us#", "close_needed#", "ptr", "link", "remote_pid#",
                "tls", "application_name", "id#", "shard", "bytes_received#", "bytes_sent#", "query_count#",
                "xact_count#");
        for (LiveClient client : runtime.clients().all()) {
            PooledBackend server = client.server();
            long lastRequest = client.counters().lastRequestMillis();
            long waitMicros = TimeUnit.NANOSECONDS.toMicros(client.waitingNanos());
            table.row("C", client.userName(), client.database(), state(client), host(client.remoteAddress()),
                    port(client.remoteAddress()), host(client.localAddress()), port(client.localAddress()),
                    time(client.connectedAtMillis()), time(lastRequest == 0 ? client.connectedAtMillis() : lastRequest),
                    waitMicros / 1_000_000, waitMicros % 1_000_000, 0, pointer(client),
                    server == null ? "" : pointer(server), 0,
                    client.encrypted() ? "TLS" : "", client.applicationName(), client.id(),
                    client.shard() == null ? "" : client.shard(), client.counters().received(),
                    client.counters().sent(), client.counters().queries(), client.counters().transactions());
        }
        return table;
    }

    private static String state(LiveClient client) {
        return switch (client.phase()) {
            case LOGIN -> "login";
            case WAITING -> "waiting";
            case ACTIVE -> "active";
        };
    }

    public Table servers() {
        Table table = Table.of("type", "user", "database", "state", "addr", "port#", "local_addr", "local_port#",
                "connect_time", "request_time", "wait#", "wait_us#", "close_needed#", "ptr", "link", "remote_pid#",
                "tls", "application_name", "shard", "purpose");
        Map<PooledBackend, LiveClient> linked = new HashMap<>();
        for (LiveClient client : runtime.clients().all()) {
            PooledBackend server = client.server();
            if (server != null) {
                linked.put(server, client);
            }
        }
        linked.forEach((server, client) -> serverRow(table, server, "active", pointer(client),
                client.applicationName()));
        for (BackendPool pool : runtime.pools().pools()) {
            for (PooledBackend server : pool.idleBackends()) {
                serverRow(table, server, "idle", "", "");
            }
        }
        return table;
    }

    private static void serverRow(Table table, PooledBackend server, String state, String link, String application) {
        var connection = server.connection();
        long connectedAt = System.currentTimeMillis()
                - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - server.createdNanos());
        SocketAddress remote = connection.channel().remoteAddress();
        table.row("S", connection.user(), connection.database(), state, host(remote), port(remote),
                host(connection.channel().localAddress()), port(connection.channel().localAddress()),
                time(connectedAt), time(connectedAt), 0, 0, 0, pointer(server), link,
                connection.keyData() == null ? 0 : connection.keyData().processId(),
                connection.channel().pipeline().get(io.netty.handler.ssl.SslHandler.class) != null ? "TLS" : "",
                application, connection.shard().name(),
                server.pool().key().purpose() == PoolKey.Purpose.RPC ? "rpc" : "session");
    }

    public Table databases() {
        ProxyConfig config = runtime.config().get();
        Table table = Table.of("name", "host", "port#", "database", "force_user", "pool_size#", "min_pool_size#",
                "reserve_pool#", "pool_mode", "max_connections#", "current_connections#", "paused#", "disabled#",
                "shard", "source");
        Set<String> apiRoutes = new LinkedHashSet<>();
        service.routes().list().stream().filter(view -> view.source().equals("api"))
                .forEach(view -> apiRoutes.add(view.database()));
        for (RouteConfig route : config.routes()) {
            ShardConfig shard = config.shards().get(route.shard());
            String forced = route.forcedUser() != null ? route.forcedUser().user()
                    : shard.user() == null ? "" : shard.user();
            databaseRow(table, route.pattern(), shard, route.database() == null ? route.pattern() : route.database(),
                    forced, apiRoutes.contains(route.pattern()) ? "api" : "file");
        }
        DefaultRoute fallback = config.defaultRoute();
        if (fallback instanceof DefaultRoute.ToShard toShard) {
            ShardConfig shard = config.shards().get(toShard.shard());
            databaseRow(table, "*", shard, "", shard.user() == null ? "" : shard.user(), "default_route");
        } else if (fallback instanceof DefaultRoute.Hash hash) {
            for (String name : hash.shards()) {
                ShardConfig shard = config.shards().get(name);
                databaseRow(table, "*", shard, "", shard.user() == null ? "" : shard.user(), "default_route hash");
            }
        }
        table.row("pgstitch", "", runtime.config().get().listen().port(), "pgstitch", "", 0, 0, 0, "statement", 0, 0,
                0, 0, "", "admin console");
        return table;
    }

    private void databaseRow(Table table, String name, ShardConfig shard, String database, String forcedUser,
                             String source) {
        table.row(name, shard.host(), shard.port(), database, forcedUser, shard.pool().size(), shard.pool().minIdle(),
                0, shard.pool().mode().spelling(), shard.maxConnections(),
                runtime.pools().shardConnections(shard.name()), runtime.pauses().paused(name) ? 1 : 0, 0,
                shard.name(), source);
    }

    public Table lists() {
        ProxyConfig config = runtime.config().get();
        List<LiveClient> clients = runtime.clients().all();
        long login = clients.stream().filter(client -> client.phase() == LiveClient.Phase.LOGIN).count();
        int idle = 0;
        int used = 0;
        for (BackendPool pool : runtime.pools().pools()) {
            idle += pool.idleConnections();
            used += pool.inUse();
        }
        Set<String> users = new LinkedHashSet<>();
        clients.forEach(client -> users.add(client.userName()));
        return Table.of("list", "items#")
                .row("databases", config.routes().size())
                .row("users", users.size())
                .row("pools", runtime.pools().pools().size())
                .row("free_clients", Math.max(0, config.listen().maxClientConnections() - clients.size()))
                .row("used_clients", clients.size() - login)
                .row("login_clients", login)
                .row("free_servers", idle)
                .row("used_servers", used)
                .row("dns_names", 0)
                .row("dns_zones", 0)
                .row("dns_queries", 0)
                .row("dns_pending", 0)
                .row("shards", config.shards().size())
                .row("paused_databases", runtime.pauses().pausedDatabases().size());
    }

    public Table shards() {
        ProxyConfig config = runtime.config().get();
        Table table = Table.of("shard", "host", "port#", "status", "tls", "pool_mode", "pool_size#",
                "max_connections#", "current_connections#", "pools#", "routes#", "checked_at", "problem");
        for (ShardConfig shard : config.shards().values()) {
            ShardHealth.State state = health.state(shard.name());
            long pools = runtime.pools().pools().stream().filter(pool -> pool.key().shard().name()
                    .equals(shard.name())).count();
            long routes = config.routes().stream().filter(route -> route.shard().equals(shard.name())).count();
            table.row(shard.name(), shard.host(), shard.port(), state.checkedAtMillis() == 0 ? "unknown"
                            : state.up() ? "up" : "down", shard.tls().spelling(), shard.pool().mode().spelling(),
                    shard.pool().size(), shard.maxConnections(), runtime.pools().shardConnections(shard.name()), pools,
                    routes, state.checkedAtMillis() == 0 ? "" : time(state.checkedAtMillis()),
                    state.problem() == null ? "" : state.problem());
        }
        return table;
    }

    public Table rpc() {
        Table table = Table.of("outcome", "calls#", "total_time_us#", "avg_time_us#", "max_time_us#");
        for (RpcMetrics.Outcome outcome : RpcMetrics.Outcome.values()) {
            var timer = sources.rpc().timerOf(outcome);
            long calls = timer.count();
            long total = (long) timer.totalTime(TimeUnit.MICROSECONDS);
            table.row(AdminService.lower(outcome), calls, total, calls == 0 ? 0 : total / calls,
                    (long) timer.max(TimeUnit.MICROSECONDS));
        }
        return table;
    }

    public Table config() {
        ProxyConfig config = runtime.config().get();
        Table table = Table.of("key", "value", "default", "changeable");
        table.row("listen.host", config.listen().host(), "127.0.0.1", "no");
        table.row("listen.port", String.valueOf(config.listen().port()), "6432", "no");
        table.row("listen.tls.mode", config.listen().tls().mode().spelling(), "prefer", "no");
        table.row("listen.max_client_connections", String.valueOf(config.listen().maxClientConnections()), "1000",
                "yes");
        table.row("listen.max_client_connections_per_database",
                String.valueOf(config.listen().maxClientConnectionsPerDatabase()), "0", "yes");
        table.row("listen.shutdown_timeout", seconds(config.listen().shutdownTimeout()), "30s", "yes");
        table.row("auth.method", config.auth().method().spelling(), "trust", "yes");
        table.row("auth.users_file", config.auth().usersFile() == null ? "" : config.auth().usersFile().toString(),
                "", "yes");
        table.row("auth.auth_timeout", seconds(config.auth().timeout()), "15s", "yes");
        table.row("auth.auth_query", config.auth().authQuery() == null ? "off" : "on", "off", "yes");
        table.row("admin.users", String.join(",", config.admin().users()), "", "yes");
        table.row("admin.http", config.admin().http() == null ? "off"
                : config.admin().http().host() + ":" + config.admin().http().port(), "off", "no");
        table.row("admin.routes_file", config.admin().routesFile() == null ? ""
                : config.admin().routesFile().toString(), "", "yes");
        table.row("admin.metrics.per_database", String.valueOf(config.admin().metricsPerDatabase()), "false", "no");
        table.row("default_route", describe(config.defaultRoute()), "reject", "yes");
        table.row("rpc.functions", String.join(",", config.rpc().functions()), "", "yes");
        table.row("rpc.split", config.rpc().split().spelling(), "rpc-only", "yes");
        table.row("rpc.in_transaction", config.rpc().inTransaction().spelling(), "reject", "yes");
        table.row("rpc.pool_size", String.valueOf(config.rpc().poolSize()), "4", "yes");
        table.row("rpc.timeout", seconds(config.rpc().timeout()), "900s", "yes");
        table.row("logging.format", config.logFormat().spelling(), "text", "no");
        return table;
    }

    static String describe(DefaultRoute route) {
        if (route instanceof DefaultRoute.ToShard toShard) {
            return toShard.shard();
        }
        if (route instanceof DefaultRoute.Hash hash) {
            return "hash(" + String.join(",", hash.shards()) + ")";
        }
        return "reject";
    }

    private static String seconds(java.time.Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
    }

    static String time(long epochMillis) {
        return TIME.format(Instant.ofEpochMilli(epochMillis));
    }

    private static String host(SocketAddress address) {
        return address instanceof InetSocketAddress inet ? inet.getAddress() == null ? inet.getHostString()
                : inet.getAddress().getHostAddress() : "";
    }

    private static int port(SocketAddress address) {
        return address instanceof InetSocketAddress inet ? inet.getPort() : 0;
    }

    /** PgBouncer shows a C pointer, and link is the peer's pointer; ids serve the same purpose here. */
    private static String pointer(Object object) {
        return object instanceof LiveClient client ? "c" + client.id()
                : "s" + Integer.toHexString(System.identityHashCode(object));
    }
}
