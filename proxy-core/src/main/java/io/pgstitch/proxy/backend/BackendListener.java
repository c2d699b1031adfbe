package io.pgstitch.proxy.backend;

import io.pgstitch.protocol.Frame;

/**
 * Who receives a leased backend's connection-level events, always on the session's event loop (see
 * {@link BackendRelay}): ParameterStatus and NotificationResponse whatever request is running, frames that
 * arrive while no request is pending (an unsolicited FATAL), and the channel's own events.
 */
public interface BackendListener extends ResponseTarget {

    void backendReadComplete();

    void backendWritabilityChanged(boolean writable);

    void backendClosed();

    void backendFailed(Throwable cause);

    /** A connection-level frame that is not the answer to anything (ParameterStatus, a notification). */
    @Override
    void response(Frame frame);
}
