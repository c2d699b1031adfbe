package io.pgstitch.it.support;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pgbench binary from PATH; {@link #run} results can be read with {@link Report}:
 * {@code Pgbench.Report.of(Pgbench.at(host, port).database("db").run("-S", "-T", "2", "-c", "2"))}.
 */
public final class Pgbench extends ClientProcess<Pgbench> {

    private static final String BINARY = "pgbench";

    private Pgbench(String host, int port) {
        super(BINARY, host, port);
    }

    public static Pgbench at(String host, int port) {
        return new Pgbench(host, port);
    }

    public static boolean available() {
        return onPath(BINARY);
    }

    /** Skips the calling test, saying why, when pgbench is not on PATH. */
    public static void assumeAvailable() {
        assumeOnPath(BINARY);
    }

    /** pgbench takes the database name as its last argument. */
    @Override
    List<String> arguments(String database, List<String> args) {
        List<String> all = new ArrayList<>(args);
        all.add(database);
        return all;
    }

    /**
     * What a pgbench run reported: "number of transactions actually processed: N", "number of failed
     * transactions: N" (pgbench 15+) and "tps = N"; -1 (0 for tps) for a line the output lacks.
     */
    public record Report(long processed, long failed, double tps) {

        private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
        private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");
        private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+)");

        public static Report of(ProcessResult result) {
            return new Report(find(PROCESSED, result.stdout()), find(FAILED, result.stdout()),
                    Double.parseDouble(group(TPS, result.stdout(), "0")));
        }

        private static long find(Pattern pattern, String text) {
            return Long.parseLong(group(pattern, text, "-1"));
        }

        private static String group(Pattern pattern, String text, String absent) {
            Matcher m = pattern.matcher(text);
            return m.find() ? m.group(1) : absent;
        }
    }
}
