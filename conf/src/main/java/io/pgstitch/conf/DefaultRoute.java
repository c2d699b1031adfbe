package io.pgstitch.conf;

import java.util.List;

/** {@code default_route}: what happens to a database ID that no route matches. */
public sealed interface DefaultRoute {

    /** Refuse the connection with FATAL 3D000. */
    record Reject() implements DefaultRoute {
    }

    /** Send it to one shard, under its own name. */
    record ToShard(String shard) implements DefaultRoute {
    }

    /** Pick a shard by rendezvous hashing over these. */
    record Hash(List<String> shards) implements DefaultRoute {
        public Hash {
            shards = List.copyOf(shards);
        }
    }
}
