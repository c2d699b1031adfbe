package io.pgstitch.proxy.backend;

import io.pgstitch.protocol.backend.ErrorField;
import io.pgstitch.protocol.backend.ErrorResponse;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A shard's own FATAL error as the client gets it: every field kept, and the context ({@code W}, which psql and
 * drivers print as CONTEXT) naming the shard, since behind pgstitch "terminating connection due to administrator
 * command" or "sorry, too many clients already" could otherwise be taken for pgstitch's own.
 */
public final class ShardErrors {

    private ShardErrors() {
    }

    /** {@code error} with the context {@code server connection to <describe>} added. */
    public static ErrorResponse naming(ErrorResponse error, String describe) {
        Map<Character, String> fields = new LinkedHashMap<>(error.fields());
        String context = "from the server connection to " + describe;
        fields.merge(ErrorField.WHERE, context, (earlier, added) -> earlier + "\n" + added);
        return new ErrorResponse(fields);
    }
}
