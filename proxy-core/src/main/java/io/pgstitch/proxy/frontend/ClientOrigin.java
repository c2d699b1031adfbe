package io.pgstitch.proxy.frontend;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

import javax.net.ssl.SSLSession;
import java.net.InetSocketAddress;

/**
 * Where a client session over an in-process channel really comes from (SQL over HTTP: the HTTP client), set as
 * an attribute of the session's channel before it starts: its address is what {@code auth.rules} match, its TLS
 * session what rules with {@code tls} and method {@code password} look at.
 *
 * @param address the HTTP client's address
 * @param tls     the HTTP connection's TLS session; null over plain HTTP
 */
public record ClientOrigin(InetSocketAddress address, SSLSession tls) {

    public static final AttributeKey<ClientOrigin> KEY = AttributeKey.valueOf(ClientOrigin.class, "origin");

    /** The TLS session of {@code channel}'s origin; null when it has none (or no origin). */
    static SSLSession tlsOf(Channel channel) {
        ClientOrigin origin = channel.attr(KEY).get();
        return origin == null ? null : origin.tls();
    }
}
