package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;

/**
 * A refusal of SQL over HTTP, as the control plane's error objects: {@code {"error": {"code": "UNKNOWN_DATABASE",
 * "name": "Unknown database", "hint": ..., "message": ..., "sqlstate": ...}}} with a fitting HTTP status. The
 * code names the rule or limit; the message says what was refused (the database, the user, the limit's value).
 * Errors of statements are not refusals: they are results ({@code {"error": {code: SQLSTATE, ...}}}).
 *
 * @param sqlState the proxy's SQLSTATE when the refusal came from the session's login; null otherwise
 */
record HttpError(HttpResponseStatus status, String code, String name, String message, String hint, String sqlState) {

    /** Why a bearer token's session may not reach its shard as its user. */
    static final String BEARER_SHARD_LOGIN = "A bearer token's login carries no password: its user reaches the shard "
            + "with a plaintext password or md5 secret of auth.users_file (or auth_query), or as a shard user the "
            + "route forces; a SCRAM verifier answers the shard only for a Basic login.";

    static HttpError of(HttpResponseStatus status, String code, String name, String message, String hint) {
        return new HttpError(status, code, name, message, hint, null);
    }

    static HttpError notFound(String path) {
        return of(HttpResponseStatus.NOT_FOUND, "NOT_FOUND", "Not found", "no resource at " + path,
                "POST /v1/databases/{id}/run runs SQL; GET /v1/databases/{id}/ws opens a WebSocket.");
    }

    static HttpError authenticationRequired() {
        return of(HttpResponseStatus.UNAUTHORIZED, "AUTHENTICATION_REQUIRED", "Authentication required",
                "no credentials given", "Send Authorization: Basic (user and password) or Bearer (a token).");
    }

    static HttpError badRequest(String message, String hint) {
        return of(HttpResponseStatus.BAD_REQUEST, "INVALID_REQUEST", "Invalid request", message, hint);
    }

    /**
     * The FATAL error that ended a session's login (any other failure reads as a lost connection), as an HTTP
     * refusal: a wrong password is 401, a rule's rejection 403, an unrouted database 404, a full proxy or pool 503,
     * a shard that cannot be reached or logged in to 502.
     */
    static HttpError ofLogin(Throwable failure, Login login) {
        PgException error = failure instanceof PgException pg ? pg
                : PgException.fatal(SqlState.CONNECTION_FAILURE, String.valueOf(failure));
        String database = login.database();
        String state = error.sqlState() == null ? SqlState.INTERNAL_ERROR : error.sqlState();
        HttpResponseStatus status;
        String code;
        String name;
        String hint = error.hint();
        switch (state) {
            case SqlState.INVALID_PASSWORD -> {
                status = HttpResponseStatus.UNAUTHORIZED;
                code = "AUTHENTICATION_FAILED";
                name = "Authentication failed";
                hint = hint != null ? hint : "Check the user name and password (or token).";
            }
            case SqlState.INVALID_AUTHORIZATION_SPECIFICATION -> {
                status = HttpResponseStatus.FORBIDDEN;
                code = "ACCESS_DENIED";
                name = "Access denied";
                hint = hint != null ? hint : "auth.rules and the users file decide who may log in to which database.";
            }
            case SqlState.INVALID_CATALOG_NAME -> {
                status = HttpResponseStatus.NOT_FOUND;
                code = "UNKNOWN_DATABASE";
                name = "Unknown database";
                hint = hint != null ? hint : "Check the database ID \"" + database + "\" of the URL.";
            }
            case SqlState.NAME_TOO_LONG, SqlState.INVALID_NAME, SqlState.CHARACTER_NOT_IN_REPERTOIRE -> {
                status = HttpResponseStatus.BAD_REQUEST;
                code = "INVALID_NAME";
                name = "Invalid name";
                hint = hint != null ? hint : "Names are 1 to 63 bytes of UTF-8 without control characters.";
            }
            case SqlState.TOO_MANY_CONNECTIONS, SqlState.CANNOT_CONNECT_NOW, SqlState.ADMIN_SHUTDOWN -> {
                status = HttpResponseStatus.SERVICE_UNAVAILABLE;
                code = "UNAVAILABLE";
                name = "Unavailable";
                hint = hint != null ? hint : "Try again later.";
            }
            case SqlState.QUERY_CANCELED -> {
                status = HttpResponseStatus.GATEWAY_TIMEOUT;
                code = "LOGIN_TIMEOUT";
                name = "Login timed out";
                hint = hint != null ? hint : "The login took longer than auth.auth_timeout; try again.";
            }
            case SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION -> {
                status = HttpResponseStatus.BAD_GATEWAY;
                code = "SHARD_LOGIN_FAILED";
                name = "Shard login failed";
                if (hint == null && login.bearer()) {
                    hint = BEARER_SHARD_LOGIN;
                }
            }
            default -> {
                boolean connection = state.startsWith("08");
                status = connection ? HttpResponseStatus.BAD_GATEWAY : HttpResponseStatus.INTERNAL_SERVER_ERROR;
                code = connection ? "SHARD_UNAVAILABLE" : "LOGIN_FAILED";
                name = connection ? "Shard unavailable" : "Login failed";
                hint = hint != null ? hint : connection ? "The shard could not be reached; try again later."
                        : "pgstitch's log has the details.";
            }
        }
        return new HttpError(status, code, name, error.getMessage(), hint, state);
    }

    /** The response body: {@code {"error": {...}}}. */
    ByteBuf body() {
        JsonOut json = new JsonOut();
        json.beginObject().name("error");
        write(json);
        return json.endObject().toBuffer();
    }

    /** The error object itself, for a WebSocket event or an NDJSON line. */
    void write(JsonOut json) {
        json.beginObject().name("code").string(code).name("name").string(name).optional("message", message)
                .optional("hint", hint).optional("sqlstate", sqlState).endObject();
    }
}
