package io.pgstitch.proxy.rpc;

import io.pgstitch.proxy.backend.SetConfigQuery;

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
}
