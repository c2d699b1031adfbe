package io.pgstitch.proxy.session;

import io.pgstitch.conf.RoutingTable;
import io.pgstitch.proxy.backend.BackendConnector;

import java.util.function.Supplier;

/**
 * What every client session shares with the others: the routing table in force (it changes on reload),
 * the cancel keys issued so far and the way to reach shards.
 */
public record SessionContext(Supplier<RoutingTable> routes, CancelRegistry cancels, BackendConnector connector) {
}
