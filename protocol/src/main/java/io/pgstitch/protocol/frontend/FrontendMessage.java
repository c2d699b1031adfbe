package io.pgstitch.protocol.frontend;

import io.netty.buffer.ByteBuf;

/** A message a client sends. Only the ones pgstitch inspects or creates are modelled; the rest pass as frames. */
public sealed interface FrontendMessage
        permits StartupMessage, SslRequest, GssEncRequest, CancelRequest, Query, Sync, Terminate, PasswordMessage,
        SaslInitialResponse, SaslResponse, Parse, Describe, Close, Execute {

    /** Writes the complete message (type, back-patched length, body) at {@code out}'s writer index. */
    void encode(ByteBuf out);
}
