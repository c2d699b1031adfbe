package io.pgstitch.proxy.backend;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.conf.ShardTlsMode;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Client-side TLS contexts towards shards, one per (mode, CA file), as libpq's sslmode: {@code prefer} and
 * {@code require} encrypt without checking the certificate; {@code verify-ca} checks it chains to
 * {@code tls_ca}; {@code verify-full} also checks that it names the shard's host. TLS 1.2 and newer.
 */
final class ShardTls {

    private record Key(ShardTlsMode mode, Path ca) {
    }

    private final Map<Key, SslContext> contexts = new ConcurrentHashMap<>();

    /** A client engine for {@code shard}; fails with a PgException naming the shard when its CA is unusable. */
    SSLEngine newEngine(ShardConfig shard, ByteBufAllocator alloc) {
        SslContext context = contexts.computeIfAbsent(new Key(shard.tls(), shard.tlsCa()), key -> build(shard));
        SSLEngine engine = context.newEngine(alloc, shard.host(), shard.port());
        if (shard.tls() == ShardTlsMode.VERIFY_FULL) {
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS"); // host name (or IP) must match the certificate
            engine.setSSLParameters(parameters);
        }
        return engine;
    }

    private static SslContext build(ShardConfig shard) {
        SslContextBuilder builder = SslContextBuilder.forClient().protocols("TLSv1.3", "TLSv1.2");
        if (shard.tls().verifies()) {
            builder.trustManager(shard.tlsCa().toFile());
        } else {
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
        }
        try {
            return builder.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw PgException.fatal(SqlState.CONNECTION_FAILURE, "shard \"" + shard.name() + "\": cannot use tls_ca "
                    + shard.tlsCa() + ": " + e.getMessage());
        }
    }
}
