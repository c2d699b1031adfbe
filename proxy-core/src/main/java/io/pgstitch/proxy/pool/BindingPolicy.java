package io.pgstitch.proxy.pool;

import io.pgstitch.conf.PoolMode;

/**
 * When a client's backend goes back to the pool ({@code pool.mode}). In every mode a backend is held, at least,
 * from the first message of a request until its last ReadyForQuery, and never released inside an extended-protocol
 * batch whose Sync is unanswered, a COPY or a stitched request.
 */
public sealed interface BindingPolicy {

    /** At disconnect only. */
    record Session() implements BindingPolicy {
        @Override
        public String modeName() {
            return "session";
        }
    }

    /** At every ReadyForQuery that says idle. */
    record Transaction() implements BindingPolicy {
        @Override
        public String modeName() {
            return "transaction";
        }
    }

    /** At every ReadyForQuery that says idle; a transaction block is refused. */
    record Statement() implements BindingPolicy {
        @Override
        public String modeName() {
            return "statement";
        }
    }

    static BindingPolicy of(PoolMode mode) {
        return switch (mode) {
            case SESSION -> new Session();
            case TRANSACTION -> new Transaction();
            case STATEMENT -> new Statement();
        };
    }

    /** Whether the backend goes back to the pool whenever the client's transaction is over. */
    default boolean releasesWhenIdle() {
        return !(this instanceof Session);
    }

    /** How the configuration spells the mode, for errors that name it. */
    String modeName();
}
