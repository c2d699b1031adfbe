package io.pgstitch.proxy.cli;

import io.pgstitch.conf.AuthConfig;
import io.pgstitch.conf.AuthQueryConfig;
import io.pgstitch.conf.AuthRule;
import io.pgstitch.conf.ConfigException;
import io.pgstitch.conf.ConfigLoader;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.conf.RoutingTable;
import io.pgstitch.conf.ShardConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code pgstitch check-config --config FILE}: validates the file and prints the effective routing table, with whom
 * each route's clients reach their shard as.
 */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Validate a configuration file, print its effective routing table; exit 1 on any error.")
final class CheckConfigCommand implements Callable<Integer> {

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the YAML file")
    Path config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ProxyConfig loaded;
        try {
            loaded = ConfigLoader.load(config);
        } catch (ConfigException e) {
            err.printf("%s: %d problem%s%n", config, e.problems().size(), e.problems().size() == 1 ? "" : "s");
            e.problems().forEach(problem -> err.println("  " + problem));
            err.flush();
            return 1;
        }
        out.printf("%s: OK%n%nlisten %s:%d, tls %s%n", config, loaded.listen().host(), loaded.listen().port(),
                loaded.listen().tls().mode().spelling());
        AuthConfig auth = loaded.auth();
        out.printf("%nauth: %s when no rule matches, users file %s%n", auth.method().spelling(),
                auth.usersFile() == null ? "none" : auth.usersFile());
        for (AuthRule rule : auth.rules()) {
            out.printf("  database %s, user %s, address %s, tls %s -> %s%n", patterns(rule.databases()),
                    patterns(rule.users()), rule.address() == null ? "all" : rule.address(),
                    rule.tls() == null ? "any" : rule.tls(), rule.method().spelling());
        }
        AuthQueryConfig authQuery = auth.authQuery();
        if (authQuery != null) {
            out.printf("  users not in the users file: auth_query on the routed shard, answers cached %s, at most %d:"
                    + "%n    %s%n", duration(authQuery.cacheTtl()), authQuery.cacheSize(), authQuery.query());
        }
        out.printf("%nshards:%n");
        for (ShardConfig shard : loaded.shards().values()) {
            out.printf("  %-16s %s:%d %s%s, pool %s/%d%n", shard.name(), shard.host(), shard.port(),
                    shard.user() == null ? "as the client's user" : "as forced user \"" + shard.user() + "\"",
                    shard.adminUser() == null ? "" : ", admin_user \"" + shard.adminUser() + "\"",
                    shard.pool().mode().spelling(), shard.pool().size());
        }
        out.printf("%nroutes:%n");
        RoutingTable.of(loaded).describe().forEach(line -> out.println("  " + line));
        out.flush();
        return 0;
    }

    private static String duration(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
    }

    private static String patterns(List<String> patterns) {
        return patterns.isEmpty() ? "all" : String.join(",", patterns);
    }
}
