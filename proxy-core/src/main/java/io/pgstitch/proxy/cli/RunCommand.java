package io.pgstitch.proxy.cli;

import io.pgstitch.conf.ConfigException;
import io.pgstitch.conf.ConfigLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.proxy.server.ProxyRuntime;
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
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code pgstitch run --config FILE}: runs the proxy. The file is reloaded when it changes (unless
 * {@code --no-watch}) and on SIGHUP; an invalid file is logged and the running configuration stays. SIGTERM or
 * SIGINT stops accepting clients and lets open sessions finish for up to {@code listen.shutdown_timeout}; a
 * second signal closes them at once.
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
            LogFormats.apply(loaded.logFormat());
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(config + ": " + String.join("\n  ", e.problems()));
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicInteger signals = new AtomicInteger();
        // the registry behind the admin endpoint's /metrics
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (ProxyRuntime runtime = ProxyRuntime.start(config, loaded, !noWatch, meters)) {
            ProxyServer server = runtime.server();
            Signals.onHangup(() -> log.info("SIGHUP: {}", runtime.reload()));
            Runnable terminate = () -> {
                if (signals.incrementAndGet() > 1) {
                    log.info("second signal: closing every session now");
                    stopped.countDown();
                    return;
                }
                Thread drain = new Thread(() -> drain(server, runtime.config(), stopped), "pgstitch-shutdown");
                drain.setDaemon(true);
                drain.start();
            };
            Signals.onTerminate(terminate);
            server.admin().onShutdown(() -> {
                log.info("SHUTDOWN from the admin console");
                terminate.run();
            });
            stopped.await();
            log.info("shutting down");
        }
        return 0;
    }

    /** Stops accepting, lets open sessions finish for up to listen.shutdown_timeout, then lets run() close. */
    private static void drain(ProxyServer server, ProxyConfig config, CountDownLatch stopped) {
        java.time.Duration timeout = config.listen().shutdownTimeout();
        log.info("shutting down: waiting up to {} s for open sessions (send the signal again to close them now)",
                timeout.toSeconds());
        server.stopAccepting();
        try {
            if (!server.awaitClientsGone(timeout)) {
                log.info("shutdown_timeout reached: closing the remaining sessions");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopped.countDown();
    }
}
