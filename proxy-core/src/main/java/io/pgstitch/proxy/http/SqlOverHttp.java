package io.pgstitch.proxy.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.pgstitch.conf.AuthConfig;
import io.pgstitch.conf.AuthMethod;
import io.pgstitch.conf.AuthRule;
import io.pgstitch.conf.ConfigException;
import io.pgstitch.conf.HttpConfig;
import io.pgstitch.proxy.auth.ClientAuthenticator;
import io.pgstitch.proxy.frontend.ClientPipeline;
import io.pgstitch.proxy.frontend.SessionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * SQL over HTTP and WebSocket ({@code http}): {@code POST /v1/databases/{id}/run} and
 * {@code GET /v1/databases/{id}/ws} on a listener of their own. Each request (each WebSocket) is a client session
 * of the proxy over {@link LocalSessions}, with the very pipeline of a PostgreSQL client: the users file,
 * {@code auth.rules} (matched against the HTTP client's address and TLS), routing, the backend identity, the pool
 * and RPC splitting and stitching are the same code. Sessions that come with a bearer token log in through an
 * authenticator of their own whose methods are {@code trust} (the token was checked here) except where a rule
 * rejects.
 */
public final class SqlOverHttp implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SqlOverHttp.class);

    private final Supplier<HttpConfig> config;
    private final LocalSessions sessions;
    private final UserSlots slots = new UserSlots();
    private final ClientAuthenticator bearerLogins;
    private final Channel listener;

    /**
     * Everything the listener needs from the server.
     *
     * @param config   the {@code http} section in force (its host, port and tls need a restart to change)
     * @param auth     the {@code auth} section in force
     * @param sessions what every client session shares (routes, pools, cancel keys, logins)
     * @param tls      the certificate of {@code listen.tls}, for {@code http.tls}; null when TLS is off
     * @param opened   told of every session opened, so that the server counts and closes it with its clients
     */
    public record Wiring(Supplier<HttpConfig> config, Supplier<AuthConfig> auth, SessionContext sessions,
                         MeterRegistry meters, ClientAuthenticator.UserLookup lookup, Supplier<SslContext> tls,
                         EventLoopGroup boss, EventLoopGroup workers, Class<? extends ServerChannel> channelType,
                         Consumer<Channel> opened) {
    }

    private SqlOverHttp(Wiring wiring) throws InterruptedException {
        this.config = wiring.config();
        HttpConfig initial = config.get();
        this.bearerLogins = authenticator(() -> trusting(wiring.auth().get()), wiring.meters(), wiring.lookup());
        SessionContext passwordSessions = wiring.sessions().inProcess(wiring.sessions().authenticator());
        SessionContext bearerSessions = wiring.sessions().inProcess(bearerLogins);
        this.sessions = LocalSessions.start(wiring.workers(), (session, bearer) -> {
            wiring.opened().accept(session);
            ClientPipeline.install(session, bearer ? bearerSessions : passwordSessions);
        }, wiring.sessions().limits()::maxMessageSize);
        Supplier<SslContext> tls = initial.tls() ? wiring.tls() : null;
        try {
            listener = new ServerBootstrap()
                    .group(wiring.boss(), wiring.workers())
                    .channel(wiring.channelType())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                            new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel channel) {
                            if (tls != null) {
                                channel.pipeline().addLast("tls", new SslHandler(tls.get().newEngine(channel.alloc())));
                            }
                            channel.pipeline().addLast("http", new HttpServerCodec(4096, 16 * 1024, 64 * 1024));
                            channel.pipeline().addLast(RequestBody.NAME,
                                    new RequestBody(config.get().limits().maxRequestBytes()));
                            channel.pipeline().addLast(HttpRequests.NAME, new HttpRequests(SqlOverHttp.this));
                        }
                    })
                    .bind(initial.host(), initial.port()).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            sessions.close();
            throw e;
        }
        log.info("SQL over HTTP{} listening on {}", tls != null ? "S" : "", listener.localAddress());
    }

    public static SqlOverHttp start(Wiring wiring) throws InterruptedException {
        return new SqlOverHttp(wiring);
    }

    /**
     * The logins of bearer-token sessions: {@code auth} with every method but {@code reject} turned into
     * {@code trust}; the users file (and auth_query) stay, for the shard login of the token's user.
     */
    static AuthConfig trusting(AuthConfig auth) {
        List<AuthRule> rules = auth.rules().stream().map(rule -> rule.method() == AuthMethod.REJECT ? rule
                : new AuthRule(rule.databases(), rule.users(), rule.address(), rule.tls(), AuthMethod.TRUST)).toList();
        return new AuthConfig(AuthMethod.TRUST, auth.usersFile(), auth.allowPlaintextPassword(), auth.timeout(),
                rules, auth.authQuery());
    }

    private static ClientAuthenticator authenticator(Supplier<AuthConfig> auth, MeterRegistry meters,
                                                     ClientAuthenticator.UserLookup lookup) {
        try {
            return new ClientAuthenticator(auth, meters, lookup);
        } catch (ConfigException e) {
            throw new IllegalArgumentException("auth.users_file: " + String.join("; ", e.problems()), e);
        }
    }

    HttpConfig config() {
        return config.get();
    }

    LocalSessions sessions() {
        return sessions;
    }

    UserSlots slots() {
        return slots;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** A reloaded {@code auth}: the bearer sessions' authenticator follows (the other is the server's own). */
    public void reconfigure(AuthConfig auth) {
        bearerLogins.reconfigure(trusting(auth));
    }

    /** Re-reads the users file of bearer sessions if it changed. Blocking: off the event loops. */
    public void refreshFiles() {
        bearerLogins.refreshUsersFile();
    }

    /** Stops accepting requests; sessions open go on until the server closes its clients. */
    public void stopAccepting() {
        listener.close().awaitUninterruptibly();
    }

    @Override
    public void close() {
        stopAccepting();
        sessions.close();
    }
}
