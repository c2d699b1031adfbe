package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pgstitch.protocol.backend.ErrorField;
import io.pgstitch.protocol.backend.ErrorResponse;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PostgreSQL counts an error's position (field P) in characters from the start of the Query it ran. A segment of
 * a stitched Query is sent as a Query of its own, so its errors count from the segment's start; the client counts
 * from the start of the text it sent.
 */
final class ErrorPositions {

    private ErrorPositions() {
    }

    /**
     * {@code error} (a whole ErrorResponse message, taken) with its position moved {@code characters} further on;
     * the same buffer when there is nothing to move.
     */
    static ByteBuf shifted(ByteBuf error, int characters, ByteBufAllocator alloc) {
        if (characters == 0) {
            return error;
        }
        ErrorResponse decoded = ErrorResponse.decode(error.slice(error.readerIndex() + 5, error.readableBytes() - 5));
        String position = decoded.fields().get(ErrorField.POSITION);
        if (position == null || position.isEmpty() || position.length() > 9 || !position.chars().allMatch(
                Character::isDigit)) {
            return error;
        }
        Map<Character, String> fields = new LinkedHashMap<>(decoded.fields());
        fields.put(ErrorField.POSITION, Integer.toString(Integer.parseInt(position) + characters));
        error.release();
        return new ErrorResponse(fields).encode(alloc);
    }
}
