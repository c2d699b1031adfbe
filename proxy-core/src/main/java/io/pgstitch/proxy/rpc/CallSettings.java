package io.pgstitch.proxy.rpc;

import io.netty.buffer.ByteBuf;
import io.pgstitch.proxy.backend.SetConfigQuery;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The settings a new {@link RpcCall} takes over from its session, so that the call runs, and its results are
 * formatted, as in the session: every reported setting the session changed since its startup, and its
 * {@code search_path}, from its ParameterStatus when the server reports it, else read with {@code SHOW}.
 */
final class CallSettings {

    /** Takes no snapshot. */
    static final String READ_SEARCH_PATH = "SHOW search_path";
    /** Settings a client may change with SET that PostgreSQL reports back (ParameterStatus), plus search_path. */
    private static final List<String> PROPAGATED = List.of("search_path", "application_name", "DateStyle",
            "IntervalStyle", "TimeZone", "client_encoding", "standard_conforming_strings");

    private CallSettings() {
    }

    /**
     * A query setting what differs between the session and the RPC connection, or null.
     *
     * @param searchPath the session's search_path, or null when unknown
     */
    static String query(StitchedRequest.Session session, String searchPath, Map<String, String> rpcParameters) {
        Map<String, String> settings = new LinkedHashMap<>();
        for (String name : PROPAGATED) {
            String value = name.equals("search_path") ? searchPath : session.reportedParameter(name);
            if (value != null && !value.equals(rpcParameters.get(name))) {
                settings.put(name, value);
            }
        }
        return SetConfigQuery.of(settings);
    }

    /** The first column of a DataRow body (the answer to {@link #READ_SEARCH_PATH}), or null. */
    static String firstColumn(ByteBuf row) {
        int start = row.readerIndex();
        if (row.readableBytes() < 6 || row.getShort(start) < 1) {
            return null;
        }
        int length = row.getInt(start + 2);
        return length < 0 || length > row.readableBytes() - 6 ? null
                : row.toString(start + 6, length, StandardCharsets.UTF_8);
    }
}
