package io.pgstitch.protocol;

/** The typed messages a server sends. The backend decoder accepts unknown types too: servers add messages. */
public enum BackendMessageType {
    AUTHENTICATION('R'),
    BACKEND_KEY_DATA('K'),
    BIND_COMPLETE('2'),
    CLOSE_COMPLETE('3'),
    COMMAND_COMPLETE('C'),
    COPY_DATA('d'),
    COPY_DONE('c'),
    COPY_IN_RESPONSE('G'),
    COPY_OUT_RESPONSE('H'),
    COPY_BOTH_RESPONSE('W'),
    DATA_ROW('D'),
    EMPTY_QUERY_RESPONSE('I'),
    ERROR_RESPONSE('E'),
    FUNCTION_CALL_RESPONSE('V'),
    NEGOTIATE_PROTOCOL_VERSION('v'),
    NO_DATA('n'),
    NOTICE_RESPONSE('N'),
    NOTIFICATION_RESPONSE('A'),
    PARAMETER_DESCRIPTION('t'),
    PARAMETER_STATUS('S'),
    PARSE_COMPLETE('1'),
    PORTAL_SUSPENDED('s'),
    READY_FOR_QUERY('Z'),
    ROW_DESCRIPTION('T');

    private static final BackendMessageType[] BY_TYPE = new BackendMessageType[256];
    private static final boolean[] RELAYED = new boolean[256];

    static {
        for (BackendMessageType type : values()) {
            BY_TYPE[type.code] = type;
        }
        for (int i = 0; i < 256; i++) {
            RELAYED[i] = BY_TYPE[i] == null || switch (BY_TYPE[i]) {
                case DATA_ROW, COPY_DATA, ROW_DESCRIPTION, NOTICE_RESPONSE, NOTIFICATION_RESPONSE,
                     FUNCTION_CALL_RESPONSE, PARAMETER_DESCRIPTION, COMMAND_COMPLETE -> true;
                default -> false;
            };
        }
    }

    private final char code;

    BackendMessageType(char code) {
        this.code = code;
    }

    /** The message type of a type byte, or null for a type this version does not know. */
    public static BackendMessageType of(byte type) {
        return BY_TYPE[type & 0xFF];
    }

    public char code() {
        return code;
    }

    /**
     * Types the proxy only relays, so that a large message of them goes on piecewise as it arrives: DataRow,
     * CopyData, RowDescription, NoticeResponse, NotificationResponse, FunctionCallResponse, ParameterDescription,
     * CommandComplete, and every type this version does not know. The others are read whole (pgstitch reads them,
     * or may swallow them, and none is large: Authentication, BackendKeyData, the Complete and Response messages,
     * ErrorResponse, ParameterStatus, ReadyForQuery...).
     */
    public static boolean isRelayed(byte type) {
        return RELAYED[type & 0xFF];
    }

    /**
     * Types whose consecutive messages a decoder may coalesce into one frame: DataRow and CopyData, pure
     * pass-through data that no answer-matching depends on (a result's end is its CommandComplete, a copy's its
     * CopyDone). Only for what a server sends: a client's 'D' is Describe.
     */
    public static boolean isCoalescable(byte type) {
        return type == 'D' || type == 'd';
    }
}
