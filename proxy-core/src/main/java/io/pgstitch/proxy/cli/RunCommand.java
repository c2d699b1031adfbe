package io.pgstitch.proxy.cli;

import io.pgstitch.conf.ConfigException;
import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.conf.ConfigWatcher;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.proxy.server.ProxyServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code pgstitch run --config FILE}: runs the proxy until SIGTERM/SIGINT. The file is reloaded when it changes
 * (unless {@code --no-watch}) and on SIGHUP; an invalid file is logged and the running configuration stays.
 */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run the proxy.")
final class RunCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the YAML file")
    Path config;

    @Option(names = "--no-watch", description = "do not watch the file; reload only on SIGHUP")
    boolean noWatch;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ProxyConfig loaded;
        try {
            loaded = ConfigLoader.load(config);
            NotYetImplemented.check(loaded);
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(config + ": " + String.join("\n  ", e.problems()));
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        try (ProxyServer server = ProxyServer.start(loaded);
             ConfigWatcher watcher = new ConfigWatcher(config, loaded, server::apply)) {
            if (!noWatch) {
                watcher.start();
            }
            Signals.onHangup(() -> log.info("SIGHUP: {}", watcher.reloadNow()));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                log.info("shutting down");
                server.close();
                stopped.countDown();
            }, "pgstitch-shutdown"));
            stopped.await();
        }
        return 0;
    }
}
