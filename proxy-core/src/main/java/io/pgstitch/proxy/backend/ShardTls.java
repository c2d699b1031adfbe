package io.pgstitch.proxy.backend;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.conf.ShardTlsMode;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Client-side TLS contexts towards shards, one per (mode, CA file), as libpq's sslmode: {@code prefer} and
 * {@code require} encrypt without checking the certificate; {@code verify-ca} checks it chains to
 * {@code tls_ca}; {@code verify-full} also checks that it names the shard's host. TLS 1.2 and newer. A CA file
 * is read at the first connection that needs it, and again by {@link #refresh()} when it changes.
 */
final class ShardTls {

    private static final Logger log = LoggerFactory.getLogger(ShardTls.class);

    private record Key(ShardTlsMode mode, Path ca) {
    }

    /** A context and what its CA file looked like when it was read (null: no file). */
    private record Built(SslContext context, ShardConfig shard, String stamp) {
    }

    private final Map<Key, Built> contexts = new ConcurrentHashMap<>();

    /** A client engine for {@code shard}; fails with a PgException naming the shard when its CA is unusable. */
    SSLEngine newEngine(ShardConfig shard, ByteBufAllocator alloc) {
        SslContext context = contexts.computeIfAbsent(new Key(shard.tls(), shard.tlsCa()), key -> build(shard))
                .context();
        SSLEngine engine = context.newEngine(alloc, shard.host(), shard.port());
        if (shard.tls() == ShardTlsMode.VERIFY_FULL) {
            SSLParameters parameters = engine.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS"); // host name (or IP) must match the certificate
            engine.setSSLParameters(parameters);
        }
        return engine;
    }

    /** Re-reads the CA files that changed since they were read; blocking, so the file-watch thread's. */
    void refresh() {
        contexts.replaceAll((key, built) -> {
            if (key.ca() == null || stamp(key.ca()).equals(built.stamp())) {
                return built;
            }
            try {
                log.info("shard {}: tls_ca {} changed, read again", built.shard().name(), key.ca());
                return build(built.shard());
            } catch (PgException e) {
                log.warn("{}; the previous one stays in force", e.getMessage());
                return built;
            }
        });
    }

    private static String stamp(Path file) {
        try {
            return Files.getLastModifiedTime(file) + "/" + Files.size(file);
        } catch (IOException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    private static Built build(ShardConfig shard) {
        String stamp = shard.tlsCa() == null ? null : stamp(shard.tlsCa());
        SslContextBuilder builder = SslContextBuilder.forClient().protocols("TLSv1.3", "TLSv1.2");
        if (shard.tls().verifies()) {
            builder.trustManager(shard.tlsCa().toFile());
        } else {
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
        }
        try {
            return new Built(builder.build(), shard, stamp);
        } catch (SSLException | IllegalArgumentException e) {
            throw PgException.fatal(SqlState.CONNECTION_FAILURE, "shard \"" + shard.name() + "\": cannot use tls_ca "
                    + shard.tlsCa() + ": " + e.getMessage());
        }
    }
}
