package io.pgstitch.proxy.server;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgstitch.conf.ConfigWatcher;
import io.pgstitch.conf.ConfigWatcher.ReloadResult;
import io.pgstitch.conf.ProxyConfig;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The proxy and the configuration file it runs from: the one reload path. {@link #reload()} (SIGHUP, the admin
 * console's RELOAD and the HTTP API, through the admin service) re-reads the file and puts a valid, changed one in force, then re-reads the files
 * it names (certificates, users file) where they changed; the file watcher and the server's file-watch thread
 * do the same on their own as files change. All of it off the event loops.
 */
public final class ProxyRuntime implements AutoCloseable {

    private final ProxyServer server;
    private final ConfigWatcher watcher;

    private ProxyRuntime(ProxyServer server, ConfigWatcher watcher) {
        this.server = server;
        this.watcher = watcher;
    }

    /**
     * Starts the proxy on {@code loaded}, the contents of {@code file}.
     *
     * @param watch whether to follow the file as it changes (else it is re-read only by {@link #reload()})
     */
    public static ProxyRuntime start(Path file, ProxyConfig loaded, boolean watch, MeterRegistry meters)
            throws InterruptedException, IOException {
        ProxyServer server = ProxyServer.start(loaded, meters);
        ConfigWatcher watcher = new ConfigWatcher(file, loaded, server::apply);
        watcher.onResult(server.admin()::reloaded);
        watcher.refuseWhen(server::reloadRefusals);
        try {
            if (watch) {
                watcher.start();
            }
        } catch (IOException | RuntimeException e) {
            watcher.close();
            server.close();
            throw e;
        }
        ProxyRuntime runtime = new ProxyRuntime(server, watcher);
        server.admin().reloadWith(file.toAbsolutePath(), runtime::reload);
        return runtime;
    }

    /** Re-reads the configuration file and the files it names; an invalid file leaves the running one in force. */
    public ReloadResult reload() {
        ReloadResult result = watcher.reloadNow();
        server.refreshFiles();
        return result;
    }

    public ProxyServer server() {
        return server;
    }

    /** The configuration in force. */
    public ProxyConfig config() {
        return watcher.current();
    }

    @Override
    public void close() {
        watcher.close();
        server.close();
    }
}
