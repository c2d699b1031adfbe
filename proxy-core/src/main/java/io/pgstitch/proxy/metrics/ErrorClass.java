package io.pgstitch.proxy.metrics;

import io.netty.buffer.ByteBuf;

/**
 * The SQLSTATE class (its first two characters, e.g. {@code 28} for invalid authorization) of an ErrorResponse:
 * {@code Byte1('E') Int32(len) (Byte1 code, String value)* Byte1(0)}, read in place without decoding the other
 * fields. A class, not the whole code, keeps the {@code pgstitch.client.errors} series few (PostgreSQL has about
 * 40 classes).
 */
final class ErrorClass {

    private static final byte SQLSTATE_FIELD = 'C';
    static final String UNKNOWN = "unknown";

    private ErrorClass() {
    }

    /** Borrows {@code message}, a whole ErrorResponse. */
    static String of(ByteBuf message) {
        int index = message.readerIndex() + 5;
        int end = message.readerIndex() + 1 + message.getInt(message.readerIndex() + 1);
        end = Math.min(end, message.writerIndex());
        while (index < end) {
            byte field = message.getByte(index++);
            if (field == 0) {
                break;
            }
            int terminator = message.indexOf(index, end, (byte) 0);
            if (terminator < 0) {
                break;
            }
            if (field == SQLSTATE_FIELD && terminator - index == 5) {
                return clean(message.getByte(index), message.getByte(index + 1));
            }
            index = terminator + 1;
        }
        return UNKNOWN;
    }

    /** The class of a SQLSTATE string. */
    static String of(String sqlState) {
        return sqlState == null || sqlState.length() != 5 ? UNKNOWN
                : clean((byte) sqlState.charAt(0), (byte) sqlState.charAt(1));
    }

    private static String clean(byte first, byte second) {
        return isCodeChar(first) && isCodeChar(second) ? new String(new char[] {(char) first, (char) second})
                : UNKNOWN;
    }

    private static boolean isCodeChar(byte b) {
        return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z');
    }
}
