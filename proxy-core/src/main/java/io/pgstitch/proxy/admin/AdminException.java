package io.pgstitch.proxy.admin;

import java.util.List;
import java.util.Objects;

/**
 * A refusal of the admin service, one type for both faces: the console sends it as an ErrorResponse
 * ({@link #sqlState}, {@link #getMessage}, {@link #hint}, the problems as detail), the HTTP API as
 * {@code {code, name, message, hint}} with {@link #httpStatus}. Never carries a stack trace.
 */
public final class AdminException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The kinds of refusal: a stable code, its title, the HTTP status and SQLSTATE that fit it. */
    public enum Code {
        UNKNOWN_DATABASE("Unknown database", 404, "3D000"),
        UNKNOWN_SHARD("Unknown shard", 422, "42704"),
        UNKNOWN_CLIENT("Unknown client", 404, "42704"),
        UNKNOWN_ROUTE("Unknown route", 404, "42704"),
        ROUTE_IN_CONFIG_FILE("Route belongs to the configuration file", 409, "55000"),
        NO_ROUTES_FILE("No routes file", 409, "55000"),
        INVALID_ROUTE("Invalid route", 422, "22023"),
        CONFIG_REJECTED("Configuration rejected", 422, "F0000"),
        NO_CONFIG_FILE("No configuration file", 409, "55000"),
        NOT_PAUSED("Not paused", 409, "55000"),
        ALL_PAUSED("Everything is paused", 409, "55000"),
        UNKNOWN_COMMAND("Unknown command", 400, "42601"),
        BAD_REQUEST("Bad request", 400, "22023"),
        REQUEST_TOO_LARGE("Request too large", 413, "54000"),
        EXPECTATION_FAILED("Expectation failed", 417, "0A000"),
        UNAUTHORIZED("Unauthorized", 401, "28000"),
        NOT_FOUND("Not found", 404, "42704"),
        METHOD_NOT_ALLOWED("Method not allowed", 405, "42601"),
        SHUTTING_DOWN("Shutting down", 503, "57P01"),
        INTERNAL("Internal error", 500, "XX000");

        private final String title;
        private final int httpStatus;
        private final String sqlState;

        Code(String title, int httpStatus, String sqlState) {
            this.title = title;
            this.httpStatus = httpStatus;
            this.sqlState = sqlState;
        }

        public String title() {
            return title;
        }
    }

    private final Code code;
    private final String hint;
    private final List<String> problems;

    public AdminException(Code code, String message, String hint) {
        this(code, message, hint, List.of());
    }

    public AdminException(Code code, String message, String hint, List<String> problems) {
        super(message, null, false, false);
        this.code = code;
        this.hint = Objects.requireNonNull(hint, "every admin error says what to do next");
        this.problems = List.copyOf(problems);
    }

    public Code code() {
        return code;
    }

    public String hint() {
        return hint;
    }

    /** Each problem of a rejected configuration, as check-config names them; empty otherwise. */
    public List<String> problems() {
        return problems;
    }

    public int httpStatus() {
        return code.httpStatus;
    }

    public String sqlState() {
        return code.sqlState;
    }
}
