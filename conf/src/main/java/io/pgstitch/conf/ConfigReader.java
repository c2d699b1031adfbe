package io.pgstitch.conf;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Walks the YAML tree and collects every problem as {@code path: message} instead of stopping at the first:
 * an admin fixing a file wants the whole list. Unknown keys are problems too, so a typo never silently does
 * nothing. The larger sections have readers of their own ({@link AuthSection}, {@link AdminSection},
 * {@link ShardsSection}, {@link RoutesSection}, {@link HttpSection}); this class reads the rest and checks what
 * spans sections.
 */
final class ConfigReader {

    private final ConfigValues values;
    /** The same list as {@code values.problems()}: the sections add their own cross-field problems to it. */
    private final List<String> problems;

    ConfigReader(Path baseDir, Function<String, String> env) {
        this.values = new ConfigValues(baseDir, env);
        this.problems = values.problems();
    }

    List<String> problems() {
        return problems;
    }

    ProxyConfig read(JsonNode root) {
        if (root == null || root.isMissingNode() || root.isNull()) {
            problems.add("the file is empty");
            return null;
        }
        if (!values.mapping(root, "(top level)")) {
            return null;
        }
        values.keys(root, "", "listen", "auth", "admin", "shards", "routes", "default_route", "rpc", "http",
                "logging");
        ListenConfig listen = listen(values.child(root, "", "listen"));
        AuthSection authSection = new AuthSection(values);
        AuthConfig auth = authSection.read(values.child(root, "", "auth"));
        AdminConfig admin = new AdminSection(values).read(values.child(root, "", "admin"));
        if (admin.http() != null && admin.http().tls() && listen.tls().mode() == ListenTlsMode.DISABLE) {
            problems.add("admin.http.tls: needs TLS on the PostgreSQL port (listen.tls.mode other than disable): the "
                    + "API serves the same certificate");
        }
        Map<String, ShardConfig> shards = new ShardsSection(values).read(root.get("shards"));
        RoutesSection routesSection = new RoutesSection(values);
        List<RouteConfig> routes = routesSection.read(root.get("routes"), shards, "routes");
        routes.addAll(routesSection.apiRoutes(admin.routesFile(), routes, shards));
        DefaultRoute defaultRoute = routesSection.defaultRoute(root.get("default_route"), shards);
        if (auth.authQuery() != null) {
            authSection.checkLookupRoles(shards, routes, defaultRoute);
        }
        RpcConfig rpc = rpc(values.child(root, "", "rpc"));
        HttpConfig http = new HttpSection(values).read(root.get("http"), listen.tls());
        JsonNode logging = values.child(root, "", "logging");
        values.keys(logging, "logging", "format");
        LogFormat logFormat = values.enumValue(logging, "logging", "format", LogFormat.class, LogFormat.TEXT);
        return new ProxyConfig(listen, auth, admin, shards, routes, defaultRoute, rpc, http, logFormat);
    }

    private ListenConfig listen(JsonNode node) {
        values.keys(node, "listen", "host", "port", "tls", "max_client_connections",
                "max_client_connections_per_database", "shutdown_timeout", "max_message_size");
        JsonNode tls = values.child(node, "listen", "tls");
        values.keys(tls, "listen.tls", "mode", "cert", "key", "key_passphrase", "ca", "client_cert");
        ListenTlsConfig tlsConfig = new ListenTlsConfig(
                values.enumValue(tls, "listen.tls", "mode", ListenTlsMode.class, ListenTlsMode.PREFER),
                values.path(tls, "listen.tls", "cert"), values.path(tls, "listen.tls", "key"),
                values.string(tls, "listen.tls", "key_passphrase", null), values.path(tls, "listen.tls", "ca"),
                values.enumValue(tls, "listen.tls", "client_cert", ClientCertMode.class, ClientCertMode.OFF));
        if ((tlsConfig.cert() == null) != (tlsConfig.key() == null)) {
            problems.add("listen.tls: cert and key must be given together");
        }
        if (tlsConfig.keyPassphrase() != null && tlsConfig.key() == null) {
            problems.add("listen.tls.key_passphrase: given without a key (the self-signed certificate needs none)");
        }
        if (tlsConfig.clientCert() != ClientCertMode.OFF) {
            String clientCert = "listen.tls.client_cert: " + tlsConfig.clientCert().spelling();
            if (tlsConfig.ca() == null) {
                problems.add(clientCert + " needs listen.tls.ca, the CA bundle client certificates are checked "
                        + "against");
            }
            if (tlsConfig.mode() != ListenTlsMode.REQUIRE) {
                problems.add(clientCert + " needs listen.tls.mode require (a client without TLS would skip the "
                        + "certificate check), got " + tlsConfig.mode().spelling());
            }
        } else if (tlsConfig.ca() != null) {
            problems.add("listen.tls.ca: only used with client_cert verify-ca or verify-full");
        }
        return new ListenConfig(values.nonEmpty(node, "listen", "host", "127.0.0.1"),
                values.integer(node, "listen", "port", 6432, 0, 65535), tlsConfig,
                values.integer(node, "listen", "max_client_connections", 1000, 1, 1_000_000),
                values.integer(node, "listen", "max_client_connections_per_database", 0, 0, 1_000_000),
                values.duration(node, "listen", "shutdown_timeout", Duration.ofSeconds(30)),
                values.size(node, "listen", "max_message_size", ListenConfig.DEFAULT_MAX_MESSAGE_SIZE, 64 << 10,
                        ListenConfig.MAX_MESSAGE_SIZE));
    }

    private RpcConfig rpc(JsonNode node) {
        values.keys(node, "rpc", "functions", "split", "in_transaction", "pool_size", "timeout");
        List<String> functions = values.stringList(node, "rpc", "functions");
        for (int i = 0; i < functions.size(); i++) {
            if (functions.get(i).isBlank()) {
                problems.add("rpc.functions[" + i + "]: empty pattern");
            }
        }
        return new RpcConfig(functions, values.enumValue(node, "rpc", "split", RpcSplit.class, RpcSplit.RPC_ONLY),
                values.enumValue(node, "rpc", "in_transaction", RpcInTransaction.class, RpcInTransaction.REJECT),
                values.integer(node, "rpc", "pool_size", 4, 1, 10_000), values.duration(node, "rpc", "timeout",
                Duration.ofMinutes(15)));
    }
}
