package io.pgstitch.protocol;

/** Protocol version numbers and the special request codes that share the startup packet's version field. */
public final class ProtocolVersion {

    /** Protocol 3.0: PostgreSQL 7.4 and later. */
    public static final int V3_0 = 3 << 16;
    /** Protocol 3.2: PostgreSQL 18; BackendKeyData carries a secret of up to 256 bytes. (3.1 was skipped.) */
    public static final int V3_2 = 3 << 16 | 2;
    /** SSLRequest: {@code Int32(8) Int32(80877103)}. */
    public static final int SSL_REQUEST_CODE = 1234 << 16 | 5679;
    /** GSSENCRequest: {@code Int32(8) Int32(80877104)}. */
    public static final int GSSENC_REQUEST_CODE = 1234 << 16 | 5680;
    /** CancelRequest: {@code Int32(len) Int32(80877102) Int32(pid) Byte(n) secret}. */
    public static final int CANCEL_REQUEST_CODE = 1234 << 16 | 5678;
    /** PostgreSQL's MAX_STARTUP_PACKET_LENGTH: no untyped startup-phase packet may be longer. */
    public static final int MAX_STARTUP_PACKET_LENGTH = 10_000;
    /** The longest cancel secret protocol 3.2 allows. */
    public static final int MAX_CANCEL_KEY_LENGTH = 256;

    private ProtocolVersion() {
    }

    public static int major(int version) {
        return version >>> 16;
    }

    public static int minor(int version) {
        return version & 0xFFFF;
    }
}
