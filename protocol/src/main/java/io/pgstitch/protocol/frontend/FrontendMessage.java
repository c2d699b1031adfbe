package io.pgstitch.protocol.frontend;

import io.pgstitch.protocol.WireMessage;

/** A message a client sends. Only the ones pgstitch inspects or creates are modelled; the rest pass as frames. */
public sealed interface FrontendMessage extends WireMessage
        permits StartupMessage, SslRequest, GssEncRequest, CancelRequest, Query, Sync, Terminate, PasswordMessage,
        SaslInitialResponse, SaslResponse, Parse, Describe, Close, Execute {
}
