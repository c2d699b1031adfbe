package io.pgstitch.proxy.admin.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.timeout.ReadTimeoutHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.pgstitch.conf.HttpEndpoint;
import io.pgstitch.tls.CertificateAndKey;
import io.pgstitch.proxy.admin.AdminService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.function.Supplier;

/**
 * The HTTP admin endpoint ({@code admin.http}): Netty's HTTP codec on the proxy's own event loops (every answer is
 * computed on the admin service's thread), {@code /metrics} from the Prometheus registry, the JSON API under
 * {@code /api/v1}; HTTPS with the PostgreSQL port's certificate when {@code admin.http.tls} is set (the same
 * reloading machinery: a renewed certificate is served from the next connection on). Refuses to listen on a
 * non-loopback address without a token. Tokens follow reloads; the address is the one bound at start, so it is the
 * bound address, not the file's host, that decides whether a reload may leave the API without tokens.
 */
public final class AdminHttpServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminHttpServer.class);
    /** Requests are small JSON objects; anything larger is refused by the aggregator (413 REQUEST_TOO_LARGE). */
    private static final int MAX_REQUEST_BYTES = 64 * 1024;
    private static final int IDLE_SECONDS = 60;

    private final Channel channel;
    /** admin.http.host as it was at start: what the listener was bound to, whatever the file says now. */
    private final String host;

    private AdminHttpServer(Channel channel, String host) {
        this.channel = channel;
        this.host = host;
    }

    /**
     * Binds {@code endpoint}.
     *
     * @param scrape   the Prometheus text of {@code /metrics}
     * @param ready    what {@code /readyz} reports
     * @param identity the PostgreSQL port's certificate and key, for HTTPS; null when that port has no TLS
     * @throws IllegalArgumentException for a non-loopback address without tokens, or HTTPS without a certificate
     */
    public static AdminHttpServer start(HttpEndpoint endpoint, AdminService admin, Supplier<String> scrape,
                                        EventLoopGroup boss, EventLoopGroup workers,
                                        Class<? extends ServerChannel> channelType, Supplier<Boolean> ready,
                                        Supplier<CertificateAndKey> identity)
            throws InterruptedException {
        if (endpoint.tokens().isEmpty() && !loopback(endpoint.host())) {
            throw new IllegalArgumentException("admin.http.host " + endpoint.host() + " is not a loopback address: "
                    + "admin.http.tokens are required to listen there");
        }
        if (endpoint.tls() && identity == null) {
            throw new IllegalArgumentException("admin.http.tls needs TLS on the PostgreSQL port (listen.tls.mode "
                    + "other than disable): the API serves its certificate");
        }
        Https https = endpoint.tls() ? new Https(identity) : null;
        Endpoints endpoints = new Endpoints(admin, scrape, ready);
        Supplier<List<String>> tokens = () -> {
            HttpEndpoint now = admin.views().configNow().admin().http();
            return now == null ? endpoint.tokens() : now.tokens();
        };
        Channel channel = new ServerBootstrap().group(boss, workers).channel(channelType)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (https != null) {
                            ch.pipeline().addLast(https.context().newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(new ReadTimeoutHandler(IDLE_SECONDS))
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpServerKeepAliveHandler())
                                .addLast(new RequestAggregator(MAX_REQUEST_BYTES))
                                .addLast(new ApiHandler(endpoints, tokens, loopbackOnly(ch.parent())));
                    }
                })
                .bind(endpoint.host(), endpoint.port()).sync().channel();
        log.info("admin HTTP API on {}://{} ({})", https == null ? "http" : "https", channel.localAddress(),
                endpoint.tokens().isEmpty() ? "no token: loopback only" : endpoint.tokens().size() + " token(s)");
        return new AdminHttpServer(channel, endpoint.host());
    }

    /**
     * What of {@code next} (a reloaded {@code admin.http}) this running server cannot take: no tokens while it
     * listens on a non-loopback address (its host and port change only with a restart, whatever the file says).
     */
    public List<String> refusals(HttpEndpoint next) {
        if (next == null || !next.tokens().isEmpty() || loopbackOnly(channel)) {
            return List.of();
        }
        return List.of("admin.http.tokens: the admin API listens on " + host + ":" + address().getPort()
                + " since start, not a loopback address, so it keeps needing a token; admin.http host and port "
                + "change only with a restart");
    }

    /**
     * The HTTPS context, built from the PostgreSQL port's certificate and rebuilt when that one is reloaded. Not
     * its context itself: that one asks for ALPN "postgresql" and, with client_cert, for a client certificate.
     */
    private static final class Https {
        private final Supplier<CertificateAndKey> identity;
        private CertificateAndKey built;
        private SslContext context;

        Https(Supplier<CertificateAndKey> identity) {
            this.identity = identity;
        }

        synchronized SslContext context() {
            CertificateAndKey now = identity.get();
            if (now != built) {
                try {
                    context = SslContextBuilder.forServer(now.key(), now.chain()).build();
                } catch (javax.net.ssl.SSLException e) {
                    throw new IllegalStateException("admin.http.tls: the certificate cannot serve HTTPS", e);
                }
                built = now;
            }
            return context;
        }
    }

    /** Whether the listener is bound to a loopback address (a wildcard address is not one). */
    private static boolean loopbackOnly(Channel listener) {
        return ((InetSocketAddress) listener.localAddress()).getAddress().isLoopbackAddress();
    }

    private static boolean loopback(String host) {
        try {
            for (InetAddress address : InetAddress.getAllByName(host)) {
                if (!address.isLoopbackAddress()) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** The routes the server answers, as {@code "GET /api/v1/routes/{database}"}, for the OpenAPI test. */
    public static List<String> routes() {
        return new Endpoints(null, () -> "", () -> true).all().stream()
                .map(endpoint -> endpoint.method().name() + " " + endpoint.path()).toList();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly();
    }
}
