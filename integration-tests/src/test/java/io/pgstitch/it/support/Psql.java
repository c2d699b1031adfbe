package io.pgstitch.it.support;

import java.util.ArrayList;
import java.util.List;

/**
 * The psql binary from PATH, always with {@code -X} (no ~/.psqlrc):
 * {@code Psql.at(host, port).user("postgres").database("db").run("-c", "select 1")}.
 */
public final class Psql extends ClientProcess<Psql> {

    private static final String BINARY = "psql";

    private Psql(String host, int port) {
        super(BINARY, host, port);
    }

    public static Psql at(String host, int port) {
        return new Psql(host, port);
    }

    /** Runs {@code script} through {@code psql -f -}, stopping at its first error. */
    public ProcessResult script(String script, String... args) {
        List<String> all = new ArrayList<>(List.of("-v", "ON_ERROR_STOP=1", "-f", "-"));
        all.addAll(List.of(args));
        return runWithInput(script, all.toArray(String[]::new));
    }

    @Override
    List<String> arguments(String database, List<String> args) {
        List<String> all = new ArrayList<>(List.of("-X", "-d", database));
        all.addAll(args);
        return all;
    }

    public static boolean available() {
        return onPath(BINARY);
    }

    /** Skips the calling test, saying why, when psql is not on PATH. */
    public static void assumeAvailable() {
        assumeOnPath(BINARY);
    }
}
