package io.pgstitch.proxy.cli;

import io.pgstitch.conf.AuthConfig;
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
import java.util.List;
import java.util.concurrent.Callable;

/** {@code pgstitch check-config --config FILE}: validates the file and prints the effective routing table. */
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
            NotYetImplemented.check(loaded);
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
        out.printf("%nshards:%n");
        for (ShardConfig shard : loaded.shards().values()) {
            out.printf("  %-16s %s:%d user %s, pool %s/%d%n", shard.name(), shard.host(), shard.port(),
                    shard.user(), shard.pool().mode().name().toLowerCase(), shard.pool().size());
        }
        out.printf("%nroutes:%n");
        RoutingTable.of(loaded).describe().forEach(line -> out.println("  " + line));
        List<String> warnings = NotYetImplemented.warnings(loaded);
        if (!warnings.isEmpty()) {
            out.printf("%nwarnings:%n");
            warnings.forEach(warning -> out.println("  " + warning));
        }
        out.flush();
        return 0;
    }

    private static String patterns(List<String> patterns) {
        return patterns.isEmpty() ? "all" : String.join(",", patterns);
    }
}
