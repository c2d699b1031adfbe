package io.pgstitch.conf;

import java.net.InetAddress;
import java.util.List;

/**
 * One entry of {@code auth.rules}, like a pg_hba.conf line: the first rule whose every condition holds decides
 * the method. A condition left out matches everything.
 *
 * @param databases glob patterns of database IDs; empty: any
 * @param users     glob patterns of user names; empty: any
 * @param address   the client's address block; null: any
 * @param tls       true: only TLS connections, false: only plaintext ones; null: either
 * @param method    what to do with a matching connection, {@link AuthMethod#REJECT} included
 */
public record AuthRule(List<String> databases, List<String> users, Cidr address, Boolean tls, AuthMethod method) {

    public AuthRule {
        databases = List.copyOf(databases);
        users = List.copyOf(users);
    }

    /** @param client the client's address; null when it has none, which no rule with an address matches */
    public boolean matches(String database, String user, InetAddress client, boolean clientTls) {
        return anyMatches(databases, database) && anyMatches(users, user)
                && (address == null || client != null && address.contains(client))
                && (tls == null || tls == clientTls);
    }

    private static boolean anyMatches(List<String> patterns, String value) {
        if (patterns.isEmpty()) {
            return true;
        }
        for (String pattern : patterns) {
            if (Glob.matches(pattern, value)) {
                return true;
            }
        }
        return false;
    }
}
