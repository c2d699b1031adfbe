package io.pgstitch.proxy.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.pgstitch.conf.ConfigWatcher.ReloadResult;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.conf.Route;
import io.pgstitch.conf.RoutingTable;
import io.pgstitch.proxy.frontend.ClientRegistry;
import io.pgstitch.proxy.frontend.LiveClient;
import io.pgstitch.proxy.frontend.Pauses;
import io.pgstitch.proxy.pool.BackendPool;
import io.pgstitch.proxy.pool.BackendPools;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The one admin service over the running proxy; the SQL console and the HTTP API are two faces of it. Reads
 * (pools, clients, servers, routes, shards, stats) are {@link Table}s built by {@link AdminViews}; actions (reload,
 * pause, resume, kill, reconnect, shutdown, route changes) run on its own thread, {@code pgstitch-admin}, never on
 * an event loop, one at a time: they may block on files, on the reload path, or wait for transactions to end.
 */
public final class AdminService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminService.class);
    private static final long PAUSE_POLL_MILLIS = 20;
    private static final long HEALTH_PERIOD_SECONDS = 5;
    /** PgBouncer's default stats_period: the window of SHOW STATS's averages. */
    static final long STATS_PERIOD_SECONDS = 15;

    /** The parts of the running proxy the service looks at and acts on. */
    public record Runtime(Supplier<ProxyConfig> config, Supplier<RoutingTable> routes, BackendPools pools,
                          ClientRegistry clients, Pauses pauses) {
    }

    private final Runtime runtime;
    private final AdminViews views;
    private final RouteEditor routes;
    private final ShardHealth health = new ShardHealth();
    private final Instant started = Instant.now();
    private final MeterRegistry meters;
    private final Map<String, Counter> reloads = new ConcurrentHashMap<>();
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "pgstitch-admin");
        thread.setDaemon(true);
        return thread;
    });
    private volatile Supplier<ReloadResult> reloader = () -> {
        throw new AdminException(AdminException.Code.NO_CONFIG_FILE, "pgstitch was started without a configuration "
                + "file, so there is nothing to reload", "Run pgstitch with --config FILE.");
    };
    private volatile Path configFile;
    private volatile Instant loadedAt = Instant.now();
    private volatile String lastReloadError;
    private volatile Runnable shutdown = () -> log.warn("SHUTDOWN asked, but nothing runs this proxy to stop it");
    private volatile boolean shuttingDown;

    public AdminService(Runtime runtime, AdminViews.Sources sources, MeterRegistry meters) {
        this.runtime = runtime;
        this.meters = meters;
        this.views = new AdminViews(runtime, sources, health, this);
        this.routes = new RouteEditor(runtime, this::reloadNow);
        for (String outcome : java.util.List.of("applied", "unchanged", "rejected")) { // zeros before the first
            reloadCounter(outcome);
        }
        executor.scheduleWithFixedDelay(() -> health.check(runtime.config().get().shards().values()),
                HEALTH_PERIOD_SECONDS, HEALTH_PERIOD_SECONDS, TimeUnit.SECONDS);
        runtime.pools().meters().onConnect((shard, failure) -> {
            if (health.connected(shard, failure) && !executor.isShutdown()) {
                executor.execute(() -> health.check(runtime.config().get().shards().values().stream()
                        .filter(config -> config.name().equals(shard)).toList()));
            }
        });
        executor.scheduleAtFixedRate(views::rollStatsPeriod, STATS_PERIOD_SECONDS, STATS_PERIOD_SECONDS,
                TimeUnit.SECONDS);
    }

    /** The configuration file the proxy runs from, and the one reload path that re-reads it. */
    public void reloadWith(Path file, Supplier<ReloadResult> reload) {
        this.configFile = file;
        this.reloader = reload;
    }

    /** What SHUTDOWN does (the run command drains and stops; embedded proxies log). */
    public void onShutdown(Runnable shutdown) {
        this.shutdown = shutdown;
    }

    public AdminViews views() {
        return views;
    }

    public ShardHealth health() {
        return health;
    }

    public RouteEditor routes() {
        return routes;
    }

    public Instant started() {
        return started;
    }

    public Path configFile() {
        return configFile;
    }

    public Instant loadedAt() {
        return loadedAt;
    }

    public String lastReloadError() {
        return lastReloadError;
    }

    public boolean shuttingDown() {
        return shuttingDown;
    }

    /** The proxy stops accepting clients (SIGTERM, SHUTDOWN): /readyz says so from now on. */
    public void shuttingDown(boolean stopping) {
        shuttingDown = stopping;
    }

    /** Runs {@code task} on the admin thread every {@code period}, first at once. */
    public void every(java.time.Duration period, Runnable task) {
        executor.scheduleWithFixedDelay(() -> {
            try {
                task.run();
            } catch (RuntimeException e) {
                log.warn("periodic admin task failed", e);
            }
        }, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** pgstitch's version, from the jar's manifest ({@code Implementation-Version}) when it has one. */
    public static String version() {
        String version = AdminService.class.getPackage().getImplementationVersion();
        return version == null ? "0.1.0-SNAPSHOT" : version;
    }

    /** Runs {@code action} on the admin thread. */
    public <T> CompletableFuture<T> submit(Callable<T> action) {
        CompletableFuture<T> result = new CompletableFuture<>();
        executor.execute(() -> {
            try {
                result.complete(action.call());
            } catch (Exception | Error e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    /** Any reload's outcome (file watcher, SIGHUP, console, API): counted, and remembered for the status. */
    public void reloaded(ReloadResult result) {
        reloadCounter(!result.applied() ? "rejected" : result.changed() ? "applied" : "unchanged").increment();
        if (result.applied()) {
            lastReloadError = null;
            if (result.changed()) {
                loadedAt = Instant.now();
            }
        } else {
            lastReloadError = String.join("; ", result.problems());
        }
    }

    private Counter reloadCounter(String outcome) {
        return reloads.computeIfAbsent(outcome, o -> Counter.builder("pgstitch.config.reloads").tag("outcome", o)
                .description("configuration reloads, by outcome").register(meters));
    }

    /** RELOAD: the one reload path; a rejected file is an error naming every problem, the running one stays. */
    public CompletableFuture<ReloadResult> reload() {
        return submit(this::reloadNow);
    }

    private ReloadResult reloadNow() {
        ReloadResult result = reloader.get();
        if (!result.applied()) {
            throw new AdminException(AdminException.Code.CONFIG_REJECTED, "configuration file " + configFile
                    + " rejected; the running configuration stays in force",
                    "Fix the problems listed and reload again (pgstitch check-config --config FILE names them too).",
                    result.problems());
        }
        return result;
    }

    /**
     * PAUSE [db]: new transactions of {@code databaseId} (every database when null) wait from now on; completes
     * once every running one has ended.
     */
    public CompletableFuture<Void> pause(String databaseId) {
        return submit(() -> {
            checkDatabase(databaseId);
            runtime.pauses().pause(databaseId);
            log.info("PAUSE {}: new transactions wait until RESUME", databaseId == null ? "(all)" : databaseId);
            return null;
        }).thenCompose(ignored -> {
            CompletableFuture<Void> drained = new CompletableFuture<>();
            awaitIdle(databaseId, drained);
            return drained;
        });
    }

    private void awaitIdle(String databaseId, CompletableFuture<Void> drained) {
        boolean stillPaused = databaseId == null ? runtime.pauses().allPaused() : runtime.pauses().paused(databaseId);
        if (!stillPaused) {
            drained.complete(null); // resumed meanwhile
        } else if (runtime.clients().all().stream().allMatch(client -> settled(client, databaseId))) {
            drained.complete(null);
        } else if (!shuttingDown) {
            executor.schedule(() -> awaitIdle(databaseId, drained), PAUSE_POLL_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Not inside a transaction or request, or held, or not of this database. */
    private static boolean settled(LiveClient client, String databaseId) {
        return databaseId != null && !databaseId.equals(client.database())
                || client.phase() != LiveClient.Phase.ACTIVE || client.counters().idle();
    }

    /** RESUME [db]. */
    public CompletableFuture<Void> resume(String databaseId) {
        return submit(() -> {
            Pauses pauses = runtime.pauses();
            if (databaseId == null && !pauses.allPaused() && pauses.pausedDatabases().isEmpty()) {
                throw new AdminException(AdminException.Code.NOT_PAUSED, "nothing is paused",
                        "PAUSE [db] holds transactions; SHOW DATABASES's paused column shows what is paused.");
            }
            if (databaseId != null && pauses.allPaused()) {
                throw new AdminException(AdminException.Code.ALL_PAUSED, "every database is paused, so database \""
                        + databaseId + "\" cannot be resumed alone", "RESUME without a database resumes all.");
            }
            if (databaseId != null && !pauses.pausedDatabases().contains(databaseId)) {
                throw new AdminException(AdminException.Code.NOT_PAUSED, "database \"" + databaseId
                        + "\" is not paused", "SHOW DATABASES's paused column shows what is paused.");
            }
            pauses.resume(databaseId);
            log.info("RESUME {}", databaseId == null ? "(all)" : databaseId);
            return null;
        });
    }

    /**
     * KILL db, as PgBouncer's: its clients are disconnected (FATAL 57P01) and its idle server connections closed
     * at once; new clients wait until RESUME.
     */
    public CompletableFuture<Integer> kill(String databaseId) {
        return submit(() -> {
            checkDatabase(databaseId);
            runtime.pauses().pause(databaseId);
            int killed = 0;
            for (LiveClient client : runtime.clients().all()) {
                if (databaseId.equals(client.database()) && client.shard() != null) {
                    client.terminate("terminating connection due to administrator command (KILL " + databaseId + ")");
                    killed++;
                }
            }
            poolsOf(databaseId).forEach(BackendPool::reconnect);
            log.info("KILL {}: {} clients disconnected; new ones wait until RESUME", databaseId, killed);
            return killed;
        });
    }

    /** RECONNECT [db]: every server connection of the database (all when null) is replaced once released. */
    public CompletableFuture<Integer> reconnect(String databaseId) {
        return submit(() -> {
            checkDatabase(databaseId);
            List<BackendPool> pools = databaseId == null ? List.copyOf(runtime.pools().pools()) : poolsOf(databaseId);
            pools.forEach(BackendPool::reconnect);
            return pools.size();
        });
    }

    /** Disconnects one client (DELETE /api/v1/clients/{id}). */
    public CompletableFuture<LiveClient> killClient(long id) {
        return submit(() -> {
            LiveClient client = runtime.clients().find(id).orElseThrow(() -> new AdminException(
                    AdminException.Code.UNKNOWN_CLIENT, "no client with id " + id,
                    "GET /api/v1/clients (or SHOW CLIENTS) lists the clients connected now."));
            client.terminate("terminating connection due to administrator command");
            return client;
        });
    }

    /** SHUTDOWN: stops the proxy as SIGTERM does; the caller has been answered first. */
    public void shutdown() {
        shuttingDown = true;
        executor.execute(shutdown);
    }

    /** The pools serving {@code databaseId} now: its route's shard and backend database, every user. */
    List<BackendPool> poolsOf(String databaseId) {
        Route route = runtime.routes().get().route(databaseId).orElse(null);
        if (route == null) {
            return List.of();
        }
        return runtime.pools().pools().stream().filter(pool -> pool.key().shard().name()
                .equals(route.shard().name()) && pool.key().database().equals(route.backendDatabase())).toList();
    }

    private void checkDatabase(String databaseId) {
        if (databaseId != null && runtime.routes().get().route(databaseId).isEmpty()) {
            throw new AdminException(AdminException.Code.UNKNOWN_DATABASE, "no such database: " + databaseId,
                    "It matches no route and default_route is reject; SHOW DATABASES lists the routes.");
        }
    }

    static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    @Override
    public void close() {
        shuttingDown = true;
        executor.shutdownNow();
    }
}
