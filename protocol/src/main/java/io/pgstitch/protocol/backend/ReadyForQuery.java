package io.pgstitch.protocol.backend;

import io.netty.buffer.ByteBuf;
import io.pgstitch.protocol.Buffers;

/** ReadyForQuery: {@code Byte1('Z') Int32(5) Byte1(status)} with status 'I', 'T' or 'E'. */
public record ReadyForQuery(TransactionStatus status) implements BackendMessage {

    public static final char TYPE = 'Z';

    /** Where the session stands after a command cycle; decides when a backend may go back to a pool. */
    public enum TransactionStatus {
        /** 'I': not in a transaction block. */
        IDLE('I'),
        /** 'T': inside a transaction block. */
        IN_TRANSACTION('T'),
        /** 'E': inside a failed transaction block; queries are refused until it ends. */
        FAILED('E');

        private final char code;

        TransactionStatus(char code) {
            this.code = code;
        }

        public char code() {
            return code;
        }

        public static TransactionStatus of(byte code) {
            return switch (code) {
                case 'I' -> IDLE;
                case 'T' -> IN_TRANSACTION;
                case 'E' -> FAILED;
                default -> throw Buffers.violation("ReadyForQuery status " + Buffers.describeByte(code)
                        + " (must be 'I', 'T' or 'E')");
            };
        }
    }

    public static final ReadyForQuery IDLE = new ReadyForQuery(TransactionStatus.IDLE);
    public static final ReadyForQuery IN_TRANSACTION = new ReadyForQuery(TransactionStatus.IN_TRANSACTION);
    public static final ReadyForQuery FAILED = new ReadyForQuery(TransactionStatus.FAILED);

    public static ReadyForQuery of(TransactionStatus status) {
        return switch (status) {
            case IDLE -> IDLE;
            case IN_TRANSACTION -> IN_TRANSACTION;
            case FAILED -> FAILED;
        };
    }

    public static ReadyForQuery decode(ByteBuf body) {
        if (body.readableBytes() != 1) {
            throw Buffers.violation("ReadyForQuery of length " + (4 + body.readableBytes()) + " (must be 5)");
        }
        return of(TransactionStatus.of(body.readByte()));
    }

    @Override
    public void encode(ByteBuf out) {
        out.writeByte(TYPE);
        out.writeInt(5);
        out.writeByte(status.code());
    }
}
