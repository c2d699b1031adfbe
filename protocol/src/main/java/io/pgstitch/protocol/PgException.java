package io.pgstitch.protocol;

import io.pgstitch.protocol.backend.ErrorField;
import io.pgstitch.protocol.backend.ErrorResponse;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error with everything an ErrorResponse carries. Thrown by pgstitch for refusals and protocol
 * violations, and built from a backend's ErrorResponse to relay it unchanged. FATAL means the connection
 * closes after the error is sent; ERROR means the session goes on.
 */
public final class PgException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public enum Severity {
        ERROR, FATAL, PANIC, WARNING, NOTICE, DEBUG, INFO, LOG;

        static Severity parse(String text) {
            for (Severity severity : values()) {
                if (severity.name().equals(text)) {
                    return severity;
                }
            }
            return ERROR;
        }
    }

    private final Severity severity;
    private final String sqlState;
    private final String detail;
    private final String hint;
    /** The backend's own ErrorResponse, relayed as is when this error came from a server. */
    private final transient ErrorResponse original;

    private PgException(Severity severity, String sqlState, String message, String detail, String hint,
                        ErrorResponse original) {
        // No stack trace: these are answers to clients, not bugs; they are created on hot paths.
        super(message, null, false, false);
        this.severity = severity;
        this.sqlState = sqlState;
        this.detail = detail;
        this.hint = hint;
        this.original = original;
    }

    public static PgException fatal(String sqlState, String message) {
        return new PgException(Severity.FATAL, sqlState, message, null, null, null);
    }

    public static PgException error(String sqlState, String message) {
        return new PgException(Severity.ERROR, sqlState, message, null, null, null);
    }

    /** An error a server sent, kept whole so that relaying it loses no field. */
    public static PgException of(ErrorResponse response) {
        String severity = response.fields().getOrDefault(ErrorField.SEVERITY_NONLOCALIZED,
                response.fields().get(ErrorField.SEVERITY));
        return new PgException(Severity.parse(severity), response.sqlState(), response.message(),
                response.detail(), response.hint(), response);
    }

    public PgException withHint(String newHint) {
        return new PgException(severity, sqlState, getMessage(), detail, newHint, null);
    }

    public PgException withDetail(String newDetail) {
        return new PgException(severity, sqlState, getMessage(), newDetail, hint, null);
    }

    /** The same error at severity ERROR: it ends a statement, not the connection. */
    public PgException asError() {
        return new PgException(Severity.ERROR, sqlState, getMessage(), detail, hint, null);
    }

    public Severity severity() {
        return severity;
    }

    public String sqlState() {
        return sqlState;
    }

    public String detail() {
        return detail;
    }

    public String hint() {
        return hint;
    }

    public boolean isFatal() {
        return severity == Severity.FATAL || severity == Severity.PANIC;
    }

    public ErrorResponse toErrorResponse() {
        if (original != null) {
            return original;
        }
        Map<Character, String> fields = new LinkedHashMap<>();
        fields.put(ErrorField.SEVERITY, severity.name());
        fields.put(ErrorField.SEVERITY_NONLOCALIZED, severity.name());
        fields.put(ErrorField.CODE, sqlState);
        fields.put(ErrorField.MESSAGE, getMessage());
        if (detail != null) {
            fields.put(ErrorField.DETAIL, detail);
        }
        if (hint != null) {
            fields.put(ErrorField.HINT, hint);
        }
        return new ErrorResponse(fields);
    }

    @Override
    public String toString() {
        return severity + " " + sqlState + ": " + getMessage();
    }
}
