package io.pgstitch.conf;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code auth}: how clients prove who they are.
 *
 * @param method                 used when no rule matches; never {@link AuthMethod#REJECT}
 * @param usersFile              the PgBouncer-format users file, null when none
 * @param allowPlaintextPassword whether method {@code password} may run without TLS, where the password crosses
 *                               the network in the clear
 * @param timeout                how long a client may take from connecting to being logged in
 *                               ({@code auth_timeout}, default 15 s) before it is closed
 * @param rules                  tried in order before {@code method}; the first that matches decides
 * @param authQuery              looks up users the users file does not list on the routed shard; null when off
 */
public record AuthConfig(AuthMethod method, Path usersFile, boolean allowPlaintextPassword, Duration timeout,
                         List<AuthRule> rules, AuthQueryConfig authQuery) {

    public AuthConfig {
        rules = List.copyOf(rules);
    }

    /** Without auth_query. */
    public AuthConfig(AuthMethod method, Path usersFile, boolean allowPlaintextPassword, Duration timeout,
                      List<AuthRule> rules) {
        this(method, usersFile, allowPlaintextPassword, timeout, rules, null);
    }

    /** The method of the first rule that matches this connection, or {@link #method()} when none does. */
    public AuthMethod methodFor(String database, String user, InetAddress client, boolean tls) {
        for (AuthRule rule : rules) {
            if (rule.matches(database, user, client, tls)) {
                return rule.method();
            }
        }
        return method;
    }

    /** Whether some connection may be asked for a password, so a users file or auth_query is needed. */
    public boolean needsUsersFile() {
        return method.needsPassword() || rules.stream().anyMatch(rule -> rule.method().needsPassword());
    }
}
