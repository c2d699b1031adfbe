package io.pgstitch.proxy.cli;

import io.pgstitch.proxy.demo.Demo;
import io.pgstitch.proxy.postgres.PostgresBinaries;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code pgstitch demo}: see {@link Demo}. Ctrl-C stops everything. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start two embedded PostgreSQL shards and pgstitch in front of them.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "6432", description = "proxy port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--pg-bin", paramLabel = "DIR",
            description = "use the PostgreSQL server binaries in DIR instead of the embedded ones")
    Path pgBin;

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "pgstitch-demo",
            description = "where the demo configuration is written (default: ${DEFAULT-VALUE})")
    Path dir;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PostgresBinaries binaries = pgBin == null ? PostgresBinaries.resolve() : PostgresBinaries.at(pgBin);
        out.println("starting two PostgreSQL shards (" + binaries.version() + ")...");
        out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Demo demo = Demo.start(binaries, port, dir);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            demo.close();
            stopped.countDown();
        }, "pgstitch-demo-shutdown"));
        out.printf("%npgstitch is listening on 127.0.0.1:%d (config: %s). Try:%n%n", demo.port(), demo.configFile());
        demo.tryThis().forEach(line -> out.println("  " + line));
        out.printf("%nEdit the routes in the config file while this runs: new connections follow at once.%n"
                + "Press Ctrl-C to stop.%n");
        out.flush();
        stopped.await();
        return 0;
    }
}
