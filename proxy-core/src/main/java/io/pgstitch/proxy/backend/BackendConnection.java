package io.pgstitch.proxy.backend;

import io.netty.channel.Channel;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.protocol.backend.BackendKeyData;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;

import java.util.Map;

/**
 * One authenticated connection to a shard, ready for queries.
 *
 * @param channel          the connection; its pipeline ends with the {@link BackendStartup} handler removed,
 *                         so whoever takes the connection adds its own handler for relayed frames
 * @param shard            the shard it is connected to
 * @param database         the backend database
 * @param user             the user it is logged in as
 * @param keyData          the backend's own process ID and secret, used only to forward a cancel
 * @param parameters       every ParameterStatus the backend reported during startup, in order
 * @param status           the transaction status of its first ReadyForQuery
 */
public record BackendConnection(Channel channel, ShardConfig shard, String database, String user, BackendKeyData keyData,
                                Map<String, String> parameters, TransactionStatus status) {

    public String describe() {
        return "shard \"" + shard.name() + "\" (" + shard.host() + ":" + shard.port() + ", database \""
                + database + "\", user \"" + user + "\")";
    }
}
