package io.pgstitch.proxy.backend;

import io.pgstitch.protocol.Frame;

/**
 * Whoever a request sent to a backend belongs to, and so receives that request's answer: the client (its own
 * messages, forwarded), a stitched segment, or an internal query of the proxy's. Called on the session's loop.
 */
@FunctionalInterface
public interface ResponseTarget {

    /**
     * One frame of the answer; the target owns it. The continuations of a {@linkplain Frame#head head} come to the
     * head's target, and only a {@linkplain Frame#isComplete() complete} frame may be read. The request's last
     * frame is its ReadyForQuery.
     */
    void response(Frame frame);
}
