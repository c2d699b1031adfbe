package io.pgstitch.proxy.admin;

import io.pgstitch.conf.ConfigWatcher.ReloadResult;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.conf.RouteConfig;
import io.pgstitch.conf.RoutesFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Routes changed through the HTTP API: written to {@code admin.routes_file} (the file the proxy owns, atomically)
 * and put in force through the one reload path, so they are validated exactly as the configuration file is. A
 * change the reload rejects is undone on disk: everything stays as it was. Admin thread only.
 */
public final class RouteEditor {

    /** A route as the API shows it; {@code source} is {@code file} (the configuration file) or {@code api}. */
    public record RouteView(String database, String shard, String backendDatabase, String source) {
    }

    private static final Set<String> CONSOLE_DATABASES = Set.of("pgstitch", "pgbouncer");
    private static final int MAX_NAME_BYTES = 63;

    private final AdminService.Runtime runtime;
    private final Supplier<ReloadResult> reload;

    RouteEditor(AdminService.Runtime runtime, Supplier<ReloadResult> reload) {
        this.runtime = runtime;
        this.reload = reload;
    }

    /** Every route in force, in the order they were configured (file first, then API). */
    public List<RouteView> list() {
        ProxyConfig config = runtime.config().get();
        Set<String> owned = apiRoutes(config).keySet();
        return config.routes().stream().map(route -> view(route, owned)).toList();
    }

    public RouteView get(String database) {
        ProxyConfig config = runtime.config().get();
        Set<String> owned = apiRoutes(config).keySet();
        return config.routes().stream().filter(route -> route.pattern().equals(database)).findFirst()
                .map(route -> view(route, owned)).orElseThrow(() -> unknown(database));
    }

    /**
     * Routes {@code database} (an ID or a glob) to {@code shard}'s {@code backendDatabase} (null: the same name).
     *
     * @return true when the route is new
     */
    public boolean put(String database, String shard, String backendDatabase) {
        ProxyConfig config = runtime.config().get();
        Path file = routesFile(config);
        checkName("database", database);
        if (CONSOLE_DATABASES.contains(database)) {
            throw new AdminException(AdminException.Code.INVALID_ROUTE, "\"" + database + "\" is the admin "
                    + "console's database and cannot be routed", "Pick another database name.");
        }
        if (backendDatabase != null) {
            checkName("backend database", backendDatabase);
        }
        if (shard == null || !config.shards().containsKey(shard)) {
            throw new AdminException(AdminException.Code.UNKNOWN_SHARD, shard == null ? "a route needs a shard"
                    : "shard \"" + shard + "\" is not configured", "Add it under shards or pick one of: "
                    + String.join(", ", config.shards().keySet()));
        }
        Map<String, RoutesFile.Target> routes = read(file);
        if (!routes.containsKey(database) && inConfigFile(config, database)) {
            throw ownedByFile(database);
        }
        Map<String, RoutesFile.Target> next = new LinkedHashMap<>(routes);
        boolean created = next.put(database, new RoutesFile.Target(shard, backendDatabase)) == null;
        apply(file, routes, next);
        return created;
    }

    /** Removes a route the API made. */
    public void delete(String database) {
        ProxyConfig config = runtime.config().get();
        Path file = routesFile(config);
        Map<String, RoutesFile.Target> routes = read(file);
        if (!routes.containsKey(database)) {
            throw inConfigFile(config, database) ? ownedByFile(database) : unknown(database);
        }
        Map<String, RoutesFile.Target> next = new LinkedHashMap<>(routes);
        next.remove(database);
        apply(file, routes, next);
    }

    /** Writes {@code next}, reloads; on rejection writes {@code previous} back and reports the problems. */
    private void apply(Path file, Map<String, RoutesFile.Target> previous, Map<String, RoutesFile.Target> next) {
        byte[] before = snapshot(file);
        write(file, next);
        ReloadResult result;
        try {
            result = reload.get();
        } catch (AdminException rejected) {
            restore(file, before);
            throw new AdminException(rejected.code() == AdminException.Code.CONFIG_REJECTED
                    ? AdminException.Code.INVALID_ROUTE : rejected.code(), "the route change was rejected by "
                    + "the configuration's validation; nothing changed", rejected.hint(), rejected.problems());
        } catch (RuntimeException e) {
            restore(file, before);
            throw e;
        }
        if (!result.applied()) {
            restore(file, before);
        }
    }

    private Map<String, RoutesFile.Target> apiRoutes(ProxyConfig config) {
        Path file = config.admin().routesFile();
        return file == null ? Map.of() : read(file);
    }

    private static Map<String, RoutesFile.Target> read(Path file) {
        try {
            return RoutesFile.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException("admin.routes_file " + file + " cannot be read", e);
        }
    }

    private static void write(Path file, Map<String, RoutesFile.Target> routes) {
        try {
            RoutesFile.write(file, routes);
        } catch (IOException e) {
            throw new UncheckedIOException("admin.routes_file " + file + " cannot be written", e);
        }
    }

    private static byte[] snapshot(Path file) {
        try {
            return Files.exists(file) ? Files.readAllBytes(file) : null;
        } catch (IOException e) {
            throw new UncheckedIOException("admin.routes_file " + file + " cannot be read", e);
        }
    }

    /** Puts back what the file held (atomically, as any write), or removes it when there was none. */
    private static void restore(Path file, byte[] before) {
        try {
            if (before == null) {
                Files.deleteIfExists(file);
            } else {
                Path temporary = Files.createTempFile(file.toAbsolutePath().getParent(), ".restore.", ".tmp");
                Files.write(temporary, before);
                Files.move(temporary, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("admin.routes_file " + file + " could not be restored", e);
        }
    }

    private static Path routesFile(ProxyConfig config) {
        Path file = config.admin().routesFile();
        if (file == null) {
            throw new AdminException(AdminException.Code.NO_ROUTES_FILE, "routes cannot be changed through the "
                    + "API: admin.routes_file is not set", "Set admin.routes_file to a file pgstitch may write, "
                    + "then reload.");
        }
        return file;
    }

    private static boolean inConfigFile(ProxyConfig config, String database) {
        return config.routes().stream().anyMatch(route -> route.pattern().equals(database));
    }

    private static RouteView view(RouteConfig route, Set<String> owned) {
        return new RouteView(route.pattern(), route.shard(), route.database() == null ? route.pattern()
                : route.database(), owned.contains(route.pattern()) ? "api" : "file");
    }

    private static AdminException unknown(String database) {
        return new AdminException(AdminException.Code.UNKNOWN_ROUTE, "no route for \"" + database + "\"",
                "GET /api/v1/routes lists the routes.");
    }

    private static AdminException ownedByFile(String database) {
        return new AdminException(AdminException.Code.ROUTE_IN_CONFIG_FILE, "the route for \"" + database
                + "\" is in the configuration file", "Edit it there; the API changes only the routes it made.");
    }

    private static void checkName(String what, String name) {
        if (name == null || name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES
                || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new AdminException(AdminException.Code.INVALID_ROUTE, "invalid " + what + " name",
                    "A name is 1 to 63 bytes without control characters.");
        }
    }
}
