package io.pgstitch.proxy.frontend;

import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.ProtocolVersion;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.frontend.StartupMessage;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a client asked for in its StartupMessage, checked before anything is routed or connected.
 *
 * @param user                 the user name the client logs in as
 * @param databaseId           the database ID that routing decides on
 * @param minorVersion         the protocol minor version this session speaks (0 or 2)
 * @param negotiate            whether a NegotiateProtocolVersion must be sent (exactly once)
 * @param unrecognizedOptions  {@code _pq_.} options the client asked for; pgstitch supports none
 * @param sessionParameters    the remaining startup parameters, passed on to the backend in order
 */
public record ClientStartup(String user, String databaseId, int minorVersion, boolean negotiate,
                            List<String> unrecognizedOptions, Map<String, String> sessionParameters) {

    /** PostgreSQL's NAMEDATALEN - 1: the longest identifier, in bytes. */
    public static final int MAX_NAME_BYTES = 63;
    /** The newest protocol minor version pgstitch speaks (3.2, PostgreSQL 18). */
    public static final int NEWEST_MINOR_VERSION = 2;

    /** Parameters the proxy decides itself instead of passing them on. */
    private static final List<String> PROXY_PARAMETERS = List.of("user", "database", "replication");

    public static ClientStartup of(StartupMessage startup) {
        int major = ProtocolVersion.major(startup.protocolVersion());
        int minor = ProtocolVersion.minor(startup.protocolVersion());
        if (major != 3) {
            throw PgException.fatal(SqlState.FEATURE_NOT_SUPPORTED, String.format(
                    "unsupported frontend protocol %d.%d: server supports 3.0 to 3.%d", major, minor,
                    NEWEST_MINOR_VERSION));
        }
        List<String> options = new ArrayList<>();
        Map<String, String> session = new LinkedHashMap<>();
        for (Map.Entry<String, String> parameter : startup.parameters().entrySet()) {
            String name = parameter.getKey();
            if (name.startsWith("_pq_.")) {
                options.add(name);
            } else if (!PROXY_PARAMETERS.contains(name)) {
                session.put(name, parameter.getValue());
            }
        }
        String replication = startup.parameter("replication");
        if (replication != null && !List.of("false", "off", "no", "0").contains(replication.toLowerCase())) {
            throw PgException.fatal(SqlState.FEATURE_NOT_SUPPORTED,
                    "replication connections are not supported by pgstitch");
        }
        String user = startup.parameter("user");
        if (user == null || user.isEmpty()) {
            throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "no PostgreSQL user name specified in startup packet");
        }
        checkName("user name", user);
        String database = startup.parameter("database");
        if (database == null || database.isEmpty()) {
            database = user; // as PostgreSQL does
        }
        checkName("database name", database);
        // 3.1 was never used by any server; like PostgreSQL 18 we answer it with the newest minor below.
        int negotiated = minor >= NEWEST_MINOR_VERSION ? NEWEST_MINOR_VERSION : 0;
        boolean negotiate = negotiated != minor || !options.isEmpty();
        return new ClientStartup(user, database, negotiated, negotiate, List.copyOf(options),
                java.util.Collections.unmodifiableMap(session));
    }

    /**
     * Names come from the network and end up in routing decisions, logs and backend startup packets:
     * refuse what PostgreSQL would truncate or could not store, instead of guessing.
     */
    static void checkName(String what, String name) {
        if (name.indexOf('\uFFFD') >= 0) {
            throw PgException.fatal(SqlState.CHARACTER_NOT_IN_REPERTOIRE,
                    "invalid byte sequence for encoding \"UTF8\" in " + what);
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw PgException.fatal(SqlState.INVALID_NAME,
                        what + " contains a control character (0x" + Integer.toHexString(c) + ")");
            }
        }
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_NAME_BYTES) {
            throw PgException.fatal(SqlState.NAME_TOO_LONG, String.format(
                    "%s \"%s...\" is too long: %d bytes, the limit is %d", what,
                    name.substring(0, Math.min(name.length(), 20)), bytes, MAX_NAME_BYTES));
        }
    }

    public boolean usesLongCancelKeys() {
        return minorVersion >= 2;
    }
}
