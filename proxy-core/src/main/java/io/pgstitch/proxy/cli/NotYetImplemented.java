package io.pgstitch.proxy.cli;

import io.pgstitch.conf.ConfigException;
import io.pgstitch.conf.PoolMode;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.conf.ShardConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * Settings the configuration format accepts but this build cannot honour yet. They are refused by name at
 * start and by check-config, never silently ignored: a proxy that quietly skips TLS or authentication would be
 * worse than one that does not start.
 */
final class NotYetImplemented {

    private NotYetImplemented() {
    }

    static void check(ProxyConfig config) throws ConfigException {
        List<String> problems = new ArrayList<>();
        for (ShardConfig shard : config.shards().values()) {
            String path = "shards." + shard.name();
            if (shard.pool().mode() != PoolMode.SESSION) {
                problems.add(path + ".pool.mode: only \"session\" is implemented in this version, got \""
                        + shard.pool().mode().spelling() + "\"");
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }

    /**
     * Settings that are accepted but have no effect yet, where running anyway is still what an admin wants
     * (a demo or test configuration written for the full product): reported as warnings.
     */
    static List<String> warnings(ProxyConfig config) {
        return new ArrayList<>();
    }
}
