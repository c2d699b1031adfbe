package io.pgstitch.protocol.backend;

import io.pgstitch.protocol.WireMessage;

/** A message a server sends. Only the ones pgstitch inspects or creates are modelled; the rest pass as frames. */
public sealed interface BackendMessage extends WireMessage
        permits Authentication, ParameterStatus, BackendKeyData, ReadyForQuery, ErrorResponse, NoticeResponse,
        CommandComplete, NegotiateProtocolVersion, EmptyQueryResponse {
}
