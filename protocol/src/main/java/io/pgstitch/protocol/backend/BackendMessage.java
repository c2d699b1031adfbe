package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;

/** A message a server sends. Only the ones pgstitch inspects or creates are modelled; the rest pass as frames. */
public sealed interface BackendMessage
        permits Authentication, ParameterStatus, BackendKeyData, ReadyForQuery, ErrorResponse, NoticeResponse,
        CommandComplete, NegotiateProtocolVersion, EmptyQueryResponse {

    /** Writes the complete message (type, back-patched length, body) at {@code out}'s writer index. */
    void encode(ByteBuf out);
}
