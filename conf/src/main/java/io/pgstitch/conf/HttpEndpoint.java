package io.pgstitch.conf;

/** A host and port to serve HTTP on. */
public record HttpEndpoint(String host, int port) {
}
