package io.pgstitch.protocol;

/**
 * The typed messages a client may send after the startup packet, with PostgreSQL's own size limits
 * (postgres.c: PQ_LARGE_MESSAGE_LIMIT for statements and data, PQ_SMALL_MESSAGE_LIMIT for the rest).
 */
public enum FrontendMessageType {
    BIND('B', Limits.LARGE),
    CLOSE('C', Limits.SMALL),
    COPY_DATA('d', Limits.LARGE),
    COPY_DONE('c', Limits.EMPTY),
    COPY_FAIL('f', Limits.SMALL),
    DESCRIBE('D', Limits.SMALL),
    EXECUTE('E', Limits.SMALL),
    FLUSH('H', Limits.EMPTY),
    FUNCTION_CALL('F', Limits.LARGE),
    PARSE('P', Limits.LARGE),
    /** PasswordMessage, SASLInitialResponse, SASLResponse, GSSResponse: the meaning depends on the auth state. */
    PASSWORD('p', Limits.AUTH_TOKEN),
    QUERY('Q', Limits.LARGE),
    SYNC('S', Limits.EMPTY),
    TERMINATE('X', Limits.EMPTY);

    /** Length-field values (they count themselves: 4 means an empty body). */
    public static final class Limits {
        /** MaxAllocSize - 1, as PostgreSQL. */
        public static final int LARGE = 0x3fffffff - 1;
        public static final int SMALL = 10_000;
        /** PG_MAX_AUTH_TOKEN_LENGTH; also the limit on every message before authentication completes. */
        public static final int AUTH_TOKEN = 65_535;
        public static final int EMPTY = 4;

        private Limits() {
        }
    }

    private static final FrontendMessageType[] BY_TYPE = new FrontendMessageType[256];

    static {
        for (FrontendMessageType type : values()) {
            BY_TYPE[type.code] = type;
        }
    }

    private final char code;
    private final int maxLength;

    FrontendMessageType(char code, int maxLength) {
        this.code = code;
        this.maxLength = maxLength;
    }

    /** Query, FunctionCall and Sync: each is answered by exactly one ReadyForQuery. */
    public static boolean isAnsweredByReadyForQuery(byte type) {
        return type == 'Q' || type == 'F' || type == 'S';
    }

    /**
     * Types a message of which may be large enough (over {@link Limits#SMALL}) to be relayed piecewise when the
     * proxy does not need to read it: CopyData, and Query, Parse, Bind and FunctionCall.
     */
    public boolean isLarge() {
        return maxLength == Limits.LARGE;
    }

    /** The name in the protocol documentation: {@code Query}, {@code CopyData}, {@code FunctionCall}. */
    public String protocolName() {
        StringBuilder name = new StringBuilder();
        for (String word : name().split("_")) {
            name.append(word.charAt(0)).append(word.substring(1).toLowerCase(java.util.Locale.ROOT));
        }
        return name.toString();
    }

    /**
     * Types whose consecutive messages a decoder may coalesce into one frame: only CopyData. Every other client
     * message is a request the session must see one by one (two Describes are two answers owed, in order).
     */
    public static boolean isCoalescable(byte type) {
        return type == 'd';
    }

    /** The message type of a type byte, or null when clients have no such message. */
    public static FrontendMessageType of(byte type) {
        return BY_TYPE[type & 0xFF];
    }

    public char code() {
        return code;
    }

    /** The largest length field allowed once the client is authenticated. */
    public int maxLength() {
        return maxLength;
    }
}
