package io.pgstitch.it.support;

/** The psql binary from PATH, always with {@code -X} (no ~/.psqlrc). */
public final class Psql extends ClientProcess<Psql> {

    private Psql(String host, int port) {
        super("psql", host, port);
    }

    public static Psql at(String host, int port) {
        return new Psql(host, port);
    }

    @Override
    java.util.List<String> connectionArguments(String database) {
        return java.util.List.of("-X", "-d", database);
    }

    public static void assumeAvailable() {
        assumeOnPath("psql");
    }
}
