package io.pgstitch.proxy.frontend;

import io.pgstitch.conf.RoutingTable;
import io.pgstitch.proxy.auth.ClientAuthenticator;
import io.pgstitch.proxy.backend.BackendConnector;
import io.pgstitch.proxy.metrics.TrafficStats;
import io.pgstitch.proxy.pool.BackendPools;
import io.pgstitch.proxy.rpc.RpcMetrics;
import io.pgstitch.proxy.rpc.RpcSettings;

import java.util.function.Supplier;

/**
 * What every client session shares with the others: the routing table in force (it changes on reload),
 * TLS towards clients, the client limits, the cancel keys issued so far, the backend pools and the way to reach
 * shards, the RPC settings in force (they change on reload), where RPC calls are counted, and how clients
 * log in ({@code auth}); for the control plane, the registry of live clients, the clients' traffic totals, the
 * PAUSEd databases, and the admin console.
 */
public record SessionContext(Supplier<RoutingTable> routes, ClientTls tls, ClientLimits limits,
                             CancelRegistry cancels, BackendPools pools, BackendConnector connector,
                             Supplier<RpcSettings> rpc, RpcMetrics rpcMetrics, ClientAuthenticator authenticator,
                             ClientRegistry clients, TrafficStats traffic, Pauses pauses, Console console) {

    /**
     * The same, for sessions over an in-process channel (SQL over HTTP): no TLS of their own (the HTTP connection
     * has it, see {@link ClientOrigin}), logging in through {@code logins}.
     */
    public SessionContext inProcess(ClientAuthenticator logins) {
        return new SessionContext(routes, ClientTls.disabled(), limits, cancels, pools, connector, rpc, rpcMetrics,
                logins, clients, traffic, pauses, console);
    }
}
