package io.pgstitch.proxy.cli;

import io.pgstitch.sqlsplit.ExplainSplit;
import io.pgstitch.sqlsplit.SplitMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code pgstitch explain-split --functions 'iasql_*' [--json] [FILE]}: how pgstitch would split a query. */
@Command(name = "explain-split", mixinStandardHelpOptions = true,
        description = "Show the statements of a query text (FILE or standard input) with their spans, kinds and "
                + "RPC calls, then the segments pgstitch would run.")
final class ExplainSplitCommand implements Callable<Integer> {

    @Option(names = "--functions", split = ",", paramLabel = "PATTERN", defaultValue = "",
            description = "RPC function glob patterns, comma-separated or repeated (e.g. 'iasql_*')")
    List<String> functions;

    @Option(names = "--json", description = "one JSON object per statement per line")
    boolean json;

    @Option(names = "--split", defaultValue = "rpc-only", paramLabel = "MODE",
            description = "rpc-only, always or never (default: ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--no-standard-conforming-strings",
            description = "treat backslashes in '...' as escapes, as PostgreSQL does when that setting is off")
    boolean noStandardConformingStrings;

    @Parameters(arity = "0..1", paramLabel = "FILE", description = "SQL file; standard input when absent")
    Path file;

    @Override
    public Integer call() throws IOException {
        String sql = file == null ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(file);
        SplitMode mode = SplitMode.valueOf(split.toUpperCase().replace('-', '_'));
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        ExplainSplit.explain(sql, functions.stream().filter(f -> !f.isBlank()).toList(), mode,
                !noStandardConformingStrings, json, out);
        out.flush();
        return 0;
    }
}
