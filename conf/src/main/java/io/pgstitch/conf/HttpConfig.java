package io.pgstitch.conf;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code http}: SQL over HTTP and WebSocket, a client-facing listener of its own. Each request is a client
 * session of the proxy: the users file, {@code auth.rules}, routes and RPC settings are those of PostgreSQL
 * clients.
 *
 * @param host           where to listen
 * @param port           0 picks a free port (tests)
 * @param tls            serve HTTPS with the certificate of {@code listen.tls}
 * @param allowPlaintext whether a non-loopback host may serve plain HTTP (behind a TLS-terminating proxy): HTTP
 *                       Basic passwords and tokens would otherwise cross the network in the clear
 * @param limits         what one request, one user and one WebSocket may use
 * @param pingInterval   how often an open WebSocket is pinged, so that proxies and load balancers on the way
 *                       keep it open while a long request runs
 * @param tokens         bearer tokens, each naming the user it logs in as; never printed
 * @param allowedOrigins the web origins ({@code https://host[:port]}) whose pages may call the API besides its
 *                       own; {@code *} allows any
 */
public record HttpConfig(String host, int port, boolean tls, boolean allowPlaintext, Limits limits,
                         Duration pingInterval, Map<String, String> tokens, List<String> allowedOrigins) {

    public HttpConfig {
        tokens = Collections.unmodifiableMap(new LinkedHashMap<>(tokens));
        allowedOrigins = List.copyOf(allowedOrigins);
    }

    /**
     * Whether a request that names the web page it comes from ({@code Origin}) may be served: its own origin
     * ({@code host}, the request's Host header, is the origin's host and port), or one allowed. A browser sends a
     * page's cross-origin requests with the user's cached Basic credentials: without this check any page could
     * run SQL as that user, even if it cannot read the answer. A request without Origin is not a browser's.
     */
    public boolean allowsOrigin(String origin, String host) {
        if (origin == null || allowedOrigins.contains("*") || allowedOrigins.contains(origin)) {
            return true;
        }
        int scheme = origin.indexOf("://");
        return host != null && scheme > 0 && origin.substring(scheme + 3).equalsIgnoreCase(host);
    }

    /**
     * {@code http.limits}.
     *
     * @param maxRequestBytes            the largest request body or WebSocket message
     * @param maxRows                    rows in one response without streaming (a JSON array); NDJSON and
     *                                   WebSocket responses stream and are not limited
     * @param maxConcurrentRequests      requests (and open WebSockets) one user may have at once
     * @param websocketIdleTimeout       a WebSocket with nothing running that receives nothing for this long is
     *                                   closed
     */
    public record Limits(int maxRequestBytes, int maxRows, int maxConcurrentRequests,
                         Duration websocketIdleTimeout) {

        public static Limits defaults() {
            return new Limits(1024 * 1024, 10_000, 10, Duration.ofMinutes(5));
        }
    }

    /** The user a bearer token logs in as; null for an unknown token. */
    public String userOfToken(String token) {
        return tokens.get(token);
    }

    /** Never prints the tokens. */
    @Override
    public String toString() {
        return "HttpConfig[host=" + host + ", port=" + port + ", tls=" + tls + ", allowPlaintext=" + allowPlaintext
                + ", limits=" + limits + ", pingInterval=" + pingInterval + ", tokens=" + tokens.size()
                + ", allowedOrigins=" + allowedOrigins + "]";
    }
}
