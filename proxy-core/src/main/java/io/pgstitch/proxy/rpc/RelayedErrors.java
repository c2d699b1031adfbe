package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgstitch.protocol.backend.ErrorField;
import io.pgstitch.protocol.backend.ErrorResponse;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a stitched request changes in an error before the client sees it. An RPC connection's FATAL ends its call,
 * not the client's session: the client sees an ERROR. And PostgreSQL counts an error's position (field P) in
 * characters from the start of the Query it ran: a segment of a stitched Query is sent as a Query of its own, so
 * its errors count from the segment's start, where the client counts from the start of the text it sent.
 */
final class RelayedErrors {

    private RelayedErrors() {
    }

    /**
     * {@code error} (a whole ErrorResponse message, taken) as the client must see it: an ERROR if it was FATAL and
     * {@code downgradeFatal}, with its position {@code positionShift} characters further on; the same buffer when
     * nothing changes.
     */
    static ByteBuf rewritten(ByteBuf error, boolean downgradeFatal, int positionShift, ByteBufAllocator alloc) {
        ErrorResponse decoded = ErrorResponse.decode(error.slice(error.readerIndex() + 5, error.readableBytes() - 5));
        boolean downgrade = downgradeFatal && decoded.isFatal();
        String position = positionShift == 0 ? null : decoded.fields().get(ErrorField.POSITION);
        boolean shift = position != null && !position.isEmpty() && position.length() <= 9
                && position.chars().allMatch(Character::isDigit);
        if (!downgrade && !shift) {
            return error;
        }
        Map<Character, String> fields = new LinkedHashMap<>(decoded.fields());
        if (downgrade) {
            fields.replace(ErrorField.SEVERITY, "ERROR");
            fields.replace(ErrorField.SEVERITY_NONLOCALIZED, "ERROR");
        }
        if (shift) {
            fields.put(ErrorField.POSITION, Integer.toString(Integer.parseInt(position) + positionShift));
        }
        error.release();
        return new ErrorResponse(fields).encode(alloc);
    }
}
