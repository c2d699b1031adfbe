package io.pgstitch.it.support;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The pgbench binary from PATH; {@link #run} results can be read with {@link Report}. */
public final class Pgbench extends ClientProcess<Pgbench> {

    private String database = "postgres";

    private Pgbench(String host, int port) {
        super("pgbench", host, port);
    }

    public static Pgbench at(String host, int port) {
        return new Pgbench(host, port);
    }

    public static void assumeAvailable() {
        assumeOnPath("pgbench");
    }

    @Override
    public Pgbench database(String value) {
        database = value;
        return this;
    }

    /** pgbench takes the database name as its last argument. */
    @Override
    public ProcessResult run(String... args) {
        String[] withDatabase = java.util.Arrays.copyOf(args, args.length + 1);
        withDatabase[args.length] = database;
        return super.run(withDatabase);
    }

    @Override
    List<String> connectionArguments(String ignored) {
        return List.of();
    }

    /** What a pgbench run reported. */
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
