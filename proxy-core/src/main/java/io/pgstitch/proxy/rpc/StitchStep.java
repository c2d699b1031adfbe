package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;

import java.util.List;

/**
 * One segment of a stitched request: complete protocol messages (each a buffer this step owns until it is sent)
 * that run together on one connection and end with a ReadyForQuery (a Query, or a Sync the proxy added).
 */
public sealed interface StitchStep {

    List<ByteBuf> messages();

    default void release() {
        messages().forEach(ReferenceCountUtil::safeRelease);
    }

    /**
     * Runs on the client's session backend.
     *
     * @param evenAfterError it must run even when the request has already failed: the Sync that ends messages
     *                       forwarded before the batch was held, without which the backend would go on
     *                       skipping the client's next messages
     */
    record OnSession(List<ByteBuf> messages, boolean evenAfterError) implements StitchStep {

        OnSession(List<ByteBuf> messages) {
            this(messages, false);
        }
    }

    /**
     * Runs on an RPC connection, in autocommit.
     *
     * @param function       the RPC function called, named in errors
     * @param injectedParses how many Parse messages at the start the proxy replays for statements the client
     *                       prepared earlier: their ParseComplete is not the client's to see
     * @param injectedCloses how many Close messages at the end the proxy adds so that the client's statement
     *                       does not stay on the pooled connection: their CloseComplete is not the client's either
     */
    record OnRpc(String function, List<ByteBuf> messages, int injectedParses, int injectedCloses)
            implements StitchStep {
    }
}
