package io.pgstitch.conf;

import java.util.List;

/**
 * A host and port to serve HTTP on.
 *
 * @param tokens bearer tokens a request must carry one of; empty: none asked (then only a loopback host is allowed)
 * @param tls    serve HTTPS with the certificate of {@code listen.tls}
 */
public record HttpEndpoint(String host, int port, List<String> tokens, boolean tls) {

    public HttpEndpoint {
        tokens = List.copyOf(tokens);
    }

    /** Plain HTTP without tokens. */
    public HttpEndpoint(String host, int port) {
        this(host, port, List.of(), false);
    }

    /** Never prints the tokens. */
    @Override
    public String toString() {
        return "HttpEndpoint[host=" + host + ", port=" + port + ", tokens=" + tokens.size() + ", tls=" + tls + "]";
    }
}
