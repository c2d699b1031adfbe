package io.pgstitch.conf;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Keeps the configuration in force in step with its file: watches the file's directory (editors replace files
 * by rename, so the directory is what sees it), with a once-a-second look at size and modification time for
 * file systems where watching is unreliable. A changed, valid file is handed to {@code onReload}; an invalid
 * one is logged with every problem and the running configuration stays.
 */
public final class ConfigWatcher implements AutoCloseable {

    /** What a reload did. */
    public record ReloadResult(boolean applied, boolean changed, List<String> problems) {
        @Override
        public String toString() {
            return applied ? (changed ? "configuration reloaded" : "configuration unchanged")
                    : "configuration rejected: " + String.join("; ", problems);
        }
    }

    private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);
    private static final long DEBOUNCE_MILLIS = 200;

    private final Path file;
    private final Consumer<ProxyConfig> onReload;
    private volatile ProxyConfig current;
    private volatile boolean closed;
    private WatchService watchService;
    private Thread thread;
    private FileState lastSeen;
    private volatile Consumer<ReloadResult> results = result -> { };
    private volatile Function<ProxyConfig, List<String>> refusals = next -> List.of();

    private record FileState(long size, long modified) {
        static FileState of(Path file) {
            try {
                return new FileState(Files.size(file), Files.getLastModifiedTime(file).toMillis());
            } catch (IOException e) {
                return new FileState(-1, -1);
            }
        }
    }

    public ConfigWatcher(Path file, ProxyConfig initial, Consumer<ProxyConfig> onReload) {
        this.file = file.toAbsolutePath();
        this.current = initial;
        this.onReload = onReload;
    }

    public ProxyConfig current() {
        return current;
    }

    /** Tells {@code listener} the outcome of every reload, whoever asked for it (for meters and status). */
    public void onResult(Consumer<ReloadResult> listener) {
        this.results = listener;
    }

    /**
     * Asks {@code check} about each changed, valid file before it is put in force: what the running proxy cannot
     * take from a reload (a listener fixed at start, say). Any problem it names rejects the file as an invalid one.
     */
    public void refuseWhen(Function<ProxyConfig, List<String>> check) {
        this.refusals = check;
    }

    /** Starts watching on a daemon thread. */
    public synchronized void start() throws IOException {
        watchService = FileSystems.getDefault().newWatchService();
        file.getParent().register(watchService, StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_MODIFY);
        lastSeen = FileState.of(file);
        thread = new Thread(this::watch, "pgstitch-config-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    private void watch() {
        while (!closed) {
            try {
                WatchKey key = watchService.poll(1, TimeUnit.SECONDS);
                boolean touched = false;
                if (key != null) {
                    for (WatchEvent<?> event : key.pollEvents()) {
                        touched |= event.context() instanceof Path changed
                                && changed.getFileName().equals(file.getFileName());
                    }
                    key.reset();
                }
                FileState state = FileState.of(file);
                if (touched || !state.equals(lastSeen)) {
                    Thread.sleep(DEBOUNCE_MILLIS); // let the editor finish writing
                    drain();
                    lastSeen = FileState.of(file);
                    log.info("{} changed: {}", file, reloadNow());
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
        }
    }

    private void drain() {
        WatchKey key;
        while ((key = watchService.poll()) != null) {
            key.pollEvents();
            key.reset();
        }
    }

    /** Re-reads the file now (SIGHUP, the admin RELOAD command); applies it when valid and changed. */
    public synchronized ReloadResult reloadNow() {
        ReloadResult result = load();
        results.accept(result);
        return result;
    }

    private ReloadResult load() {
        ProxyConfig next;
        try {
            next = ConfigLoader.load(file);
        } catch (ConfigException e) {
            return rejected(e.problems());
        }
        if (Objects.equals(next, current)) {
            return new ReloadResult(true, false, List.of());
        }
        List<String> refused = refusals.apply(next);
        if (!refused.isEmpty()) {
            return rejected(refused);
        }
        current = next;
        onReload.accept(next);
        return new ReloadResult(true, true, List.of());
    }

    private ReloadResult rejected(List<String> problems) {
        problems.forEach(problem -> log.warn("{}: {} — keeping the running configuration", file, problem));
        return new ReloadResult(false, false, problems);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
        }
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException e) {
                log.debug("closing the watch service", e);
            }
        }
    }
}
