package io.pgstitch.proxy.admin.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.proxy.admin.AdminException;
import io.pgstitch.proxy.admin.AdminService;
import io.pgstitch.proxy.admin.RouteEditor;
import io.pgstitch.proxy.admin.ShardHealth;
import io.pgstitch.proxy.admin.Table;
import io.pgstitch.proxy.frontend.LiveClient;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The HTTP admin API's routes, as data: a method, a path pattern ({@code {name}} for a segment) and what answers
 * it. {@code /api/v1/openapi.json} documents exactly these (a test checks both ways). Every answer is computed on
 * the admin service's thread, never on an event loop.
 */
final class Endpoints {

    /** One route: {@code GET /api/v1/routes/{database}}. */
    record Endpoint(HttpMethod method, String path, boolean open, Handler handler) {
        Pattern pattern() {
            return Pattern.compile(path.replaceAll("\\{[a-z_]+}", "([^/]+)"));
        }
    }

    /** Answers one request; {@code parameter} is the path's {@code {name}} segment, decoded, or null. */
    @FunctionalInterface
    interface Handler {
        CompletableFuture<ApiResponse> handle(String parameter, byte[] body) throws IOException;
    }

    static final ObjectMapper JSON = new ObjectMapper();

    private final AdminService admin;
    private final Supplier<String> metrics;
    private final Supplier<Boolean> ready;
    private final List<Endpoint> endpoints = new ArrayList<>();

    Endpoints(AdminService admin, Supplier<String> metrics, Supplier<Boolean> ready) {
        this.admin = admin;
        this.metrics = metrics;
        this.ready = ready;
        add(HttpMethod.GET, "/healthz", true, (p, b) -> done(json(JSON.createObjectNode().put("status", "ok"))));
        add(HttpMethod.GET, "/readyz", true, (p, b) -> done(readyz()));
        add(HttpMethod.GET, "/metrics", false, (p, b) -> admin.submit(() -> new ApiResponse(HttpResponseStatus.OK,
                "text/plain; version=0.0.4; charset=utf-8", metrics.get().getBytes(StandardCharsets.UTF_8))));
        add(HttpMethod.GET, "/api/v1/openapi.json", false, (p, b) -> done(new ApiResponse(HttpResponseStatus.OK,
                ApiResponse.JSON, OpenApi.document())));
        add(HttpMethod.GET, "/api/v1/status", false, (p, b) -> admin.submit(() -> json(status())));
        add(HttpMethod.GET, "/api/v1/routes", false, (p, b) -> admin.submit(() -> json(routes(admin.routes().list()))));
        add(HttpMethod.GET, "/api/v1/routes/{database}", false,
                (p, b) -> admin.submit(() -> json(route(admin.routes().get(p)))));
        add(HttpMethod.PUT, "/api/v1/routes/{database}", false, this::putRoute);
        add(HttpMethod.DELETE, "/api/v1/routes/{database}", false, (p, b) -> admin.submit(() -> {
            admin.routes().delete(p);
            return new ApiResponse(HttpResponseStatus.NO_CONTENT, ApiResponse.JSON, new byte[0]);
        }));
        add(HttpMethod.GET, "/api/v1/shards", false, (p, b) -> admin.submit(() -> json(table(admin.views().shards()))));
        add(HttpMethod.GET, "/api/v1/pools", false, (p, b) -> admin.submit(() -> json(table(admin.views().pools()))));
        add(HttpMethod.GET, "/api/v1/clients", false,
                (p, b) -> admin.submit(() -> json(table(admin.views().clients()))));
        add(HttpMethod.DELETE, "/api/v1/clients/{id}", false, (p, b) -> admin.killClient(clientId(p))
                .thenApply(client -> new ApiResponse(HttpResponseStatus.NO_CONTENT, ApiResponse.JSON, new byte[0])));
        add(HttpMethod.POST, "/api/v1/reload", false, (p, b) -> admin.reload().thenApply(result -> json(
                JSON.createObjectNode().put("applied", result.applied()).put("changed", result.changed()))));
        add(HttpMethod.POST, "/api/v1/pause", false, (p, b) -> {
            String database = database(b);
            return admin.pause(database).thenApply(done -> json(pauseState("paused", database)));
        });
        add(HttpMethod.POST, "/api/v1/resume", false, (p, b) -> {
            String database = database(b);
            return admin.resume(database).thenApply(done -> json(pauseState("resumed", database)));
        });
    }

    private void add(HttpMethod method, String path, boolean open, Handler handler) {
        endpoints.add(new Endpoint(method, path, open, handler));
    }

    List<Endpoint> all() {
        return endpoints;
    }

    private static CompletableFuture<ApiResponse> done(ApiResponse response) {
        return CompletableFuture.completedFuture(response);
    }

    private ApiResponse readyz() {
        boolean isReady = ready.get();
        return new ApiResponse(isReady ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                ApiResponse.JSON, bytes(JSON.createObjectNode().put("ready", isReady)));
    }

    private CompletableFuture<ApiResponse> putRoute(String database, byte[] body) throws IOException {
        JsonNode request = parse(body);
        JsonNode shard = request.get("shard");
        JsonNode backend = request.get("database");
        if (shard == null || !shard.isTextual() || backend != null && !backend.isNull() && !backend.isTextual()) {
            throw new AdminException(AdminException.Code.BAD_REQUEST, "a route is {\"shard\": \"...\"} with an "
                    + "optional \"database\" (the backend database)", "Example: {\"shard\": \"shard2\", "
                    + "\"database\": \"tenant_x\"}");
        }
        request.fieldNames().forEachRemaining(name -> {
            if (!name.equals("shard") && !name.equals("database")) {
                throw new AdminException(AdminException.Code.BAD_REQUEST, "unknown field \"" + name + "\"",
                        "A route has \"shard\" and, optionally, \"database\".");
            }
        });
        String backendDatabase = backend == null || backend.isNull() ? null : backend.asText();
        return admin.submit(() -> {
            boolean created = admin.routes().put(database, shard.asText(), backendDatabase);
            ApiResponse view = json(route(admin.routes().get(database)));
            return created ? new ApiResponse(HttpResponseStatus.CREATED, view.contentType(), view.body()) : view;
        });
    }

    private static long clientId(String text) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new AdminException(AdminException.Code.UNKNOWN_CLIENT, "no client with id " + text,
                    "Client ids are numbers; GET /api/v1/clients lists them.");
        }
    }

    /** {@code {"database": "tenant_a"}}, or no body (every database). */
    private static String database(byte[] body) throws IOException {
        if (body.length == 0) {
            return null;
        }
        JsonNode database = parse(body).get("database");
        if (database != null && !database.isNull() && !database.isTextual()) {
            throw new AdminException(AdminException.Code.BAD_REQUEST, "\"database\" must be a string",
                    "Send {\"database\": \"tenant_a\"}, or no body for every database.");
        }
        return database == null || database.isNull() ? null : database.asText();
    }

    private static JsonNode parse(byte[] body) throws IOException {
        JsonNode node;
        try {
            node = body.length == 0 ? null : JSON.readTree(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AdminException(AdminException.Code.BAD_REQUEST, "the request body is not JSON: "
                    + e.getOriginalMessage(), "Send a JSON object with Content-Type: application/json.");
        }
        if (node == null || !node.isObject()) {
            throw new AdminException(AdminException.Code.BAD_REQUEST, "the request body must be a JSON object",
                    "Send a JSON object with Content-Type: application/json.");
        }
        return node;
    }

    private ObjectNode pauseState(String what, String database) {
        ObjectNode node = JSON.createObjectNode().put("status", what);
        if (database == null) {
            node.putNull("database");
        } else {
            node.put("database", database);
        }
        return node;
    }

    private ObjectNode status() {
        List<String> warnings = new ArrayList<>();
        ObjectNode status = JSON.createObjectNode();
        ArrayNode shards = JSON.createArrayNode();
        for (ShardConfig shard : admin.views().configNow().shards().values()) {
            ShardHealth.State state = admin.health().state(shard.name());
            boolean unknown = state.checkedAtMillis() == 0; // nothing reached it yet: not a reason to warn
            String code = unknown || state.up() ? "OK" : "FATAL";
            String message = unknown ? "unknown: " + state.problem() : state.up() ? "up"
                    : Objects.requireNonNullElse(state.problem(), "down");
            if (!"OK".equals(code)) {
                warnings.add("shard " + shard.name() + " is down: " + message);
            }
            ObjectNode node = shards.addObject().put("name", shard.name()).put("host", shard.host())
                    .put("port", shard.port());
            node.putObject("status").put("code", code).put("message", message);
            node.put("connections", admin.views().shardConnections(shard.name()))
                    .put("max_connections", shard.maxConnections());
        }
        warnings.addAll(admin.views().waitWarnings());
        boolean stopping = admin.shuttingDown();
        status.putObject("status").put("code", stopping ? "FATAL" : warnings.isEmpty() ? "OK" : "WARNING")
                .put("message", stopping ? "shutting down" : warnings.isEmpty() ? "all shards up, no pool saturated"
                        : String.join("; ", warnings));
        status.put("version", admin.views().version());
        status.put("uptime", Duration.between(admin.started(), Instant.now()).toSeconds());
        ObjectNode config = status.putObject("config");
        config.put("file", admin.configFile() == null ? null : admin.configFile().toString());
        config.put("loaded_at", admin.loadedAt().toString());
        config.put("last_reload_error", admin.lastReloadError());
        status.set("shards", shards);
        ObjectNode clients = status.putObject("clients");
        long active = 0;
        long waiting = 0;
        long login = 0;
        for (LiveClient client : admin.views().liveClients()) {
            switch (client.phase()) {
                case ACTIVE -> active++;
                case WAITING -> waiting++;
                case LOGIN -> login++;
            }
        }
        clients.put("active", active).put("waiting", waiting).put("login", login)
                .put("total", active + waiting + login);
        return status;
    }

    private static ArrayNode routes(List<RouteEditor.RouteView> routes) {
        ArrayNode array = JSON.createArrayNode();
        routes.forEach(route -> array.add(route(route)));
        return array;
    }

    private static ObjectNode route(RouteEditor.RouteView route) {
        return JSON.createObjectNode().put("database", route.database()).put("shard", route.shard())
                .put("backend_database", route.backendDatabase()).put("source", route.source());
    }

    /** A table as an array of objects, one per row, keyed by column name in column order. */
    static ArrayNode table(Table table) {
        ArrayNode array = JSON.createArrayNode();
        List<Table.Column> columns = table.columns();
        for (Object[] row : table.rows()) {
            ObjectNode node = array.addObject();
            for (int i = 0; i < columns.size(); i++) {
                Object value = row[i];
                String name = columns.get(i).name();
                if (value == null) {
                    node.putNull(name);
                } else if (value instanceof Number number) {
                    node.put(name, number.longValue());
                } else {
                    node.put(name, value.toString());
                }
            }
        }
        return array;
    }

    static ApiResponse json(JsonNode node) {
        return new ApiResponse(HttpResponseStatus.OK, ApiResponse.JSON, bytes(node));
    }

    static byte[] bytes(JsonNode node) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(node);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The error object: {@code {code, name, message, hint}} (and {@code problems} for a rejected file). */
    static ApiResponse error(AdminException error) {
        ObjectNode node = JSON.createObjectNode().put("code", error.code().name()).put("name", error.code().title())
                .put("message", error.getMessage()).put("hint", error.hint());
        if (!error.problems().isEmpty()) {
            ArrayNode problems = node.putArray("problems");
            error.problems().forEach(problems::add);
        }
        return new ApiResponse(HttpResponseStatus.valueOf(error.httpStatus()), ApiResponse.JSON, bytes(node));
    }

    /** Finds the endpoint for a path: its matcher, or null. */
    static Matcher match(Endpoint endpoint, String path) {
        Matcher matcher = endpoint.pattern().matcher(path);
        return matcher.matches() ? matcher : null;
    }
}
