package io.pgstitch.proxy.server;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.pgstitch.conf.AuthConfig;
import io.pgstitch.conf.ClientCertMode;
import io.pgstitch.conf.ConfigException;
import io.pgstitch.conf.HttpEndpoint;
import io.pgstitch.conf.ListenTlsConfig;
import io.pgstitch.conf.ListenTlsMode;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.conf.RoutingTable;
import io.pgstitch.conf.UserSecret;
import io.pgstitch.proxy.auth.AuthQuery;
import io.pgstitch.proxy.admin.AdminService;
import io.pgstitch.proxy.admin.AdminViews;
import io.pgstitch.proxy.admin.console.AdminConsole;
import io.pgstitch.proxy.admin.http.AdminHttpServer;
import io.pgstitch.proxy.auth.ClientAuthenticator;
import io.pgstitch.proxy.backend.BackendConnector;
import io.pgstitch.proxy.pool.BackendPools;
import io.pgstitch.proxy.pool.PoolMeters;
import io.pgstitch.proxy.frontend.CancelRegistry;
import io.pgstitch.proxy.frontend.ClientLimits;
import io.pgstitch.proxy.frontend.ClientPipeline;
import io.pgstitch.proxy.frontend.ClientRegistry;
import io.pgstitch.proxy.frontend.Pauses;
import io.pgstitch.proxy.metrics.ProxyMeters;
import io.pgstitch.proxy.metrics.TrafficStats;
import io.pgstitch.proxy.frontend.ClientTls;
import io.pgstitch.proxy.rpc.RpcMetrics;
import io.pgstitch.proxy.rpc.RpcSettings;
import io.pgstitch.proxy.frontend.SessionContext;
import io.pgstitch.proxy.http.SqlOverHttp;
import io.pgstitch.tls.ServerTls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The listening proxy: accepts clients, gives each a {@link ClientSession}, and holds the configuration in
 * force. {@link #apply(ProxyConfig)} swaps the routing table for new connections; open sessions keep the
 * backend they have.
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);
    private final BackendConnector connector;
    private final AtomicReference<ProxyConfig> config;
    private final AtomicReference<RoutingTable> routes;
    private final AtomicReference<RpcSettings> rpc;
    private final MeterRegistry meters;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final Channel serverChannel;
    private final BackendPools pools;
    private final ClientLimits limits;
    private final ClientAuthenticator authenticator;
    private final AuthQuery authQuery;
    private final ClientTls tls;
    /** SQL over HTTP and WebSocket; null when {@code http} is not configured. */
    private final SqlOverHttp http;
    // control plane: the admin service (console and HTTP API are its two faces) and what it looks at
    private final ClientRegistry registry = new ClientRegistry();
    private final Pauses pauses = new Pauses();
    private final AdminService admin;
    private final ProxyMeters proxyMeters;
    private final AdminHttpServer adminHttp;
    /** The one thread that looks at files (certificates, users file), so no event loop ever does. */
    private final ScheduledExecutorService fileWatch = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "pgstitch-file-watch");
        thread.setDaemon(true);
        return thread;
    });

    private ProxyServer(ProxyConfig initial, MeterRegistry meters, Transport transport, int threads)
            throws InterruptedException {
        this.meters = meters;
        this.config = new AtomicReference<>(initial);
        this.routes = new AtomicReference<>(RoutingTable.of(initial));
        this.rpc = new AtomicReference<>(RpcSettings.of(initial.rpc()));
        this.authQuery = new AuthQuery(initial);
        this.authenticator = authenticator(() -> config.get().auth(), meters, this::lookUp);
        this.bossGroup = transport.newGroup(1);
        this.workerGroup = transport.newGroup(threads);
        this.connector = new BackendConnector(transport.clientChannel(),
                () -> config.get().listen().maxMessageSize());
        this.pools = new BackendPools(connector, workerGroup, ShardConfig::maxConnections, new PoolMeters(meters));
        this.limits = new ClientLimits(() -> config.get().listen().maxClientConnections(),
                () -> config.get().listen().maxClientConnectionsPerDatabase(),
                () -> config.get().listen().maxMessageSize());
        this.tls = clientTls(initial.listen().tls());
        TrafficStats traffic = new TrafficStats(meters, initial.admin().metricsPerDatabase());
        RpcMetrics rpcMetrics = new RpcMetrics(meters);
        this.admin = new AdminService(new AdminService.Runtime(config::get, routes::get, pools, registry, pauses),
                new AdminViews.Sources(traffic, rpcMetrics, AdminService.version()), meters);
        this.proxyMeters = new ProxyMeters(meters, registry, pools, () -> config.get().shards().values(),
                admin.health()::up, initial.admin().metricsPerDatabase());
        admin.every(java.time.Duration.ofSeconds(5), proxyMeters::refresh);
        SessionContext context = new SessionContext(routes::get, tls, limits,
                new CancelRegistry(new SecureRandom()), pools, connector, rpc::get, rpcMetrics,
                authenticator, registry, traffic, pauses, new AdminConsole(admin, () -> config.get().admin().users()));
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                // a client that shuts down its writing side after a query still gets the answer, as from PostgreSQL
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        clients.add(ch);
                        ClientPipeline.install(ch, context);
                    }
                });
        try {
            serverChannel = bootstrap.bind(initial.listen().host(), initial.listen().port()).sync().channel();
            adminHttp = initial.admin().http() == null ? null : AdminHttpServer.start(initial.admin().http(), admin,
                    this::scrape, bossGroup, workerGroup, transport.serverChannel(), this::ready,
                    tls.contexts() instanceof ServerTls certificate ? certificate::identity : null);
        } catch (RuntimeException | InterruptedException e) {
            fileWatch.shutdownNow();
            admin.close();
            proxyMeters.close();
            pools.close();
            shutdownGroups();
            throw e;
        }
        try {
            http = initial.http() == null ? null : SqlOverHttp.start(new SqlOverHttp.Wiring(
                    () -> config.get().http() != null ? config.get().http() : initial.http(),
                    () -> config.get().auth(), context, meters, this::lookUp, tls.contexts(), bossGroup, workerGroup,
                    transport.serverChannel(), clients::add));
        } catch (RuntimeException | InterruptedException e) {
            serverChannel.close().awaitUninterruptibly();
            fileWatch.shutdownNow();
            pools.close();
            shutdownGroups();
            throw e;
        }
        fileWatch.scheduleWithFixedDelay(this::refreshFiles, 1, 1, TimeUnit.SECONDS);
        log.info("pgstitch listening on {} ({} transport, {} event loops)", serverChannel.localAddress(),
                transport, threads);
    }

    /**
     * Re-reads the files the configuration points at (TLS certificate, key and CA; users file) where they changed.
     * Runs once a second on the file-watch thread, and on SIGHUP; blocking, so never on an event loop.
     */
    public void refreshFiles() {
        try {
            tls.reloadFiles();
            authenticator.refreshUsersFile();
            connector.refreshTls();
            if (http != null) {
                http.refreshFiles();
            }
        } catch (RuntimeException e) {
            log.warn("reloading files failed; the previous ones stay in force", e);
        }
    }

    /**
     * TLS towards clients: the configured PEM files, reloaded when they change, or a self-signed certificate
     * generated now (its fingerprint is logged) when none is configured.
     */
    private static ClientTls clientTls(ListenTlsConfig config) {
        if (config.mode() == ListenTlsMode.DISABLE) {
            return ClientTls.disabled();
        }
        // client_cert verify-ca and verify-full both need a certificate from ca in the handshake (conf makes sure
        // ca is given exactly then); the session checks verify-full's name
        try {
            ServerTls tls = config.cert() == null ? ServerTls.selfSigned(new SecureRandom(), config.ca())
                    : ServerTls.fromFiles(config.cert(), config.key(),
                    config.keyPassphrase() == null ? null : config.keyPassphrase().toCharArray(), config.ca());
            return new ClientTls(config.mode(), tls, config.clientCert() == ClientCertMode.VERIFY_FULL);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("listen.tls: " + e.getMessage(), e);
        }
    }

    /** auth_query for a user missing from the users file, on the shard its database ID routes to. */
    private CompletableFuture<Optional<UserSecret>> lookUp(String databaseId, String user) {
        return routes.get().route(databaseId)
                .map(route -> authQuery.lookup(route.shard(), route.backendDatabase(), user))
                .orElseGet(() -> CompletableFuture.completedFuture(Optional.empty()));
    }

    private static ClientAuthenticator authenticator(Supplier<AuthConfig> auth, MeterRegistry meters,
                                                     ClientAuthenticator.UserLookup lookup) {
        try {
            return new ClientAuthenticator(auth, meters, lookup);
        } catch (ConfigException e) {
            throw new IllegalArgumentException("auth.users_file: " + String.join("; ", e.problems()), e);
        }
    }

    /**
     * Binds {@code listen.host:listen.port} (port 0 picks a free one) and starts accepting clients.
     *
     * @param meters where pgstitch's meters go (the Prometheus registry behind /metrics, or a simple one)
     */
    public static ProxyServer start(ProxyConfig config, MeterRegistry meters) throws InterruptedException {
        return new ProxyServer(config, meters, Transport.best(), Runtime.getRuntime().availableProcessors());
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    public int port() {
        return address().getPort();
    }

    /** Where SQL over HTTP listens; empty when {@code http} is not configured. */
    public Optional<InetSocketAddress> httpAddress() {
        return http == null ? Optional.empty() : Optional.of(http.address());
    }

    public ProxyConfig config() {
        return config.get();
    }

    /** Client connections currently open (including ones still logging in). */
    public int clientCount() {
        return clients.size();
    }

    /** Clients past startup and counted against the client limits. */
    public int clientsAdmitted() {
        return limits.total();
    }

    /** Where pgstitch's meters live (RPC calls, client logins), for tests and (later) {@code /metrics}. */
    public MeterRegistry meters() {
        return meters;
    }

    /** The backend pools, for tests and the admin service. */
    public BackendPools pools() {
        return pools;
    }

    /** The admin service: what the console and the HTTP API act through. */
    public AdminService admin() {
        return admin;
    }

    /** The HTTP admin endpoint's address; null when admin.http is off. */
    public InetSocketAddress adminHttpAddress() {
        return adminHttp == null ? null : adminHttp.address();
    }

    /** {@code /metrics}: the pool and shard gauges brought up to date, then the Prometheus text. */
    private String scrape() {
        proxyMeters.refresh();
        return meters instanceof PrometheusMeterRegistry prometheus ? prometheus.scrape()
                : "# pgstitch was started without a Prometheus registry\n";
    }

    /** Configuration loaded, listening, not shutting down: what /readyz answers. */
    public boolean ready() {
        return serverChannel.isActive() && !admin.shuttingDown();
    }

    /**
     * Puts a new configuration in force: new connections follow its routes at once, open sessions keep
     * their backend. Listen address changes need a restart and are only logged.
     */
    public void apply(ProxyConfig next) {
        ProxyConfig previous = config.getAndSet(next);
        routes.set(RoutingTable.of(next));
        rpc.set(RpcSettings.of(next.rpc()));
        authenticator.reconfigure(next.auth());
        if (http != null) {
            http.reconfigure(next.auth());
        }
        authQuery.reconfigure(next);
        // max_message_size applies to each session from its login on: no restart needed for it
        if (!previous.listen().withMaxMessageSize(next.listen().maxMessageSize()).equals(next.listen())) {
            log.warn("listen settings changed; they take effect only after a restart");
        }
        if (!httpListener(previous).equals(httpListener(next))) {
            log.warn("http host, port or tls changed, or http was turned on or off; that takes a restart");
        }
        if (!adminListener(previous).equals(adminListener(next))) {
            log.warn("admin.http host, port or tls changed, or admin.http was turned on or off; that takes a "
                    + "restart (its tokens are applied now)");
        }
        log.info("configuration applied: {} routes, {} shards", next.routes().size(), next.shards().size());
    }

    /**
     * What the running proxy cannot take from a reload (asked before {@link #apply}): tokens that would leave the
     * admin API's non-loopback listener open to anyone.
     */
    public List<String> reloadRefusals(ProxyConfig next) {
        return adminHttp == null ? List.of() : adminHttp.refusals(next.admin().http());
    }

    /** What of {@code admin.http} only a restart changes. */
    private static List<Object> adminListener(ProxyConfig config) {
        HttpEndpoint admin = config.admin().http();
        return admin == null ? List.of() : List.of(admin.host(), admin.port(), admin.tls());
    }

    /** What of {@code http} only a restart changes. */
    private static List<Object> httpListener(ProxyConfig config) {
        return config.http() == null ? List.of() : List.of(config.http().host(), config.http().port(),
                config.http().tls());
    }

    /** Stops accepting new clients; open sessions go on. The first step of a graceful shutdown. */
    public void stopAccepting() {
        admin.shuttingDown(true);
        serverChannel.close().awaitUninterruptibly();
        if (http != null) {
            http.stopAccepting();
        }
        log.info("no longer accepting clients; {} sessions open", clients.size());
    }

    /**
     * Waits until every client has left, or {@code timeout} has passed.
     *
     * @return whether all clients left in time
     */
    public boolean awaitClientsGone(java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!clients.isEmpty()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    @Override
    public void close() {
        fileWatch.shutdownNow();
        admin.close();
        if (adminHttp != null) {
            adminHttp.close();
        }
        proxyMeters.close();
        serverChannel.close().awaitUninterruptibly();
        if (http != null) {
            http.close();
        }
        clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        pools.close();
        authQuery.close();
        shutdownGroups();
    }

    private void shutdownGroups() {
        bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
