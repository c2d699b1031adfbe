package io.pgstitch.proxy.session;

import io.pgstitch.protocol.Frame;

/** Who receives a leased backend's events, always on the session's event loop (see {@link BackendRelay}). */
interface BackendListener {

    /** A frame from the backend; the listener owns it. */
    void backendFrame(Frame frame);

    void backendReadComplete();

    void backendWritabilityChanged(boolean writable);

    void backendClosed();

    void backendFailed(Throwable cause);
}
