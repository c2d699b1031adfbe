package io.pgstitch.proxy.backend;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.backend.ReadyForQuery.TransactionStatus;
import io.pgstitch.proxy.pool.BackendPool;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The FIFO against what PostgreSQL answers, frame by frame. After an error in an extended-protocol message the
 * backend discards every message up to the next Sync (a Query or FunctionCall too) and answers only that Sync.
 */
class PendingResponsesTest {

    private final ResponseTarget idle = Frame::release;
    private final ResponseTarget client = Frame::release;
    private final ResponseTarget proxy = Frame::release;
    private final PendingResponses pending = new PendingResponses(TransactionStatus.IDLE, idle);
    private final List<String> ran = new ArrayList<>();

    @Test
    void aQueryDiscardedAfterAFailedBindIsOwedNothing() {
        sent(client, 'B', 'Q', 'S'); // Bind of a missing statement, Query "select 1", Sync
        assertThat(pending.whenAnswered(() -> ran.add("answered"))).isFalse();
        assertThat(pending.owed()).isEqualTo(2);

        assertThat(read('E')).isSameAs(client);
        assertThat(pending.owed()).as("the Query is discarded: only the Sync is answered").isEqualTo(1);
        assertThat(ran).isEmpty();

        assertThat(read('Z')).isSameAs(client);
        assertThat(ran).containsExactly("answered");
        assertThat(pending.owed()).isZero();
        assertThat(pending.release()).isEqualTo(BackendPool.Release.CLEAN);
    }

    /**
     * COPY FROM STDIN, CopyData, then a Query, all sent before the CopyInResponse is read: PostgreSQL reads the
     * Query as part of the COPY and fails it (one ErrorResponse, one ReadyForQuery, for the COPY).
     */
    @Test
    void aQuerySentAfterCopyDataBeforeTheCopyInResponseIsReadByTheCopy() {
        sent(client, 'Q', 'd', 'Q'); // copy t from stdin; CopyData; select 1 (then the client half-closes)
        assertThat(pending.whenAnswered(() -> ran.add("answered"))).isFalse();
        assertThat(pending.owed()).isEqualTo(2);

        read('G');
        assertThat(pending.owed()).as("the Query is the COPY's now").isEqualTo(1);
        read('E');
        assertThat(ran).isEmpty();
        read('Z');
        assertThat(ran).containsExactly("answered");
        assertThat(pending.owed()).isZero();
        assertThat(pending.release()).isEqualTo(BackendPool.Release.CLEAN);
    }

    @Test
    void aQueryAfterCopyDoneIsAnsweredOnItsOwn() {
        sent(client, 'Q', 'd', 'c', 'Q');
        read('G');
        assertThat(pending.owed()).isEqualTo(2);
        read('C');
        read('Z');
        assertThat(pending.owed()).isEqualTo(1);
    }

    @Test
    void withoutASyncNothingIsOwedAfterTheErrorAndTheWaitingCallbacksRunOnce() {
        sent(client, 'B', 'Q'); // then the client half-closes
        assertThat(pending.whenAnswered(() -> ran.add("close"))).isFalse();

        assertThat(read('E')).isSameAs(client);
        assertThat(ran).as("nothing synced is owed any more").containsExactly("close");
        assertThat(pending.owed()).isZero();
        assertThat(pending.release()).as("the backend waits for a Sync").isEqualTo(BackendPool.Release.DIRTY);
        assertThat(pending.whenAnswered(() -> ran.add("again"))).isTrue();

        sent(client, 'Q', 'S'); // discarded too, up to the Sync
        assertThat(pending.owed()).isEqualTo(1);
        read('Z');
        assertThat(ran).as("no callback runs twice").containsExactly("close");
        assertThat(pending.owed()).isZero();
    }

    @Test
    void theRequestsUpToTheNextSyncMergeAndItsOwnerGetsTheReadyForQuery() {
        sent(client, 'P', 'B', 'E', 'Q'); // a Query inside an extended batch
        pending.whenAnswered(() -> ran.add("first"));
        sent(client, 'Q');
        pending.whenAnswered(() -> ran.add("second"));
        sent(client, 'P', 'B');
        sent(proxy, 'S'); // the proxy's own Sync ends what the client forwarded
        pending.whenAnswered(() -> ran.add("third"));
        sent(client, 'Q'); // after the Sync: a request of its own
        assertThat(pending.owed()).isEqualTo(4);

        read('1');
        assertThat(read('E')).as("the Bind's error").isSameAs(client);
        assertThat(ran).isEmpty();
        assertThat(pending.owed()).isEqualTo(2);

        assertThat(read('Z')).isSameAs(proxy);
        assertThat(ran).containsExactly("first", "second", "third");
        assertThat(read('T')).isSameAs(client);
        assertThat(read('Z')).isSameAs(client);
        assertThat(pending.owed()).isZero();
    }

    @Test
    void theErrorOfTheQueryEndingAnExtendedBatchIsNotSkipped() {
        sent(client, 'P', 'B', 'Q');
        sent(client, 'S');
        read('1');
        read('2');
        read('E'); // the Query's own error: its ReadyForQuery follows, then the Sync's
        assertThat(pending.owed()).isEqualTo(2);
        read('Z');
        read('Z');
        assertThat(pending.owed()).isZero();
        assertThat(pending.release()).isEqualTo(BackendPool.Release.CLEAN);
    }

    @Test
    void anErrorOfTheSyncItselfIsNotSkipped() {
        sent(client, 'P', 'B', 'D', 'E', 'S');
        sent(client, 'Q');
        for (char answer : "12TC".toCharArray()) {
            read(answer);
        }
        read('E'); // a deferred constraint failing at the implicit commit
        assertThat(pending.owed()).isEqualTo(2);
        read('Z');
        assertThat(pending.owed()).isEqualTo(1);
    }

    @Test
    void anErrorAnsweringAnExtendedMessageEndedByItsSyncDiscardsNothingElse() {
        sent(client, 'P', 'B', 'E', 'S');
        sent(client, 'Q');
        read('1');
        read('E');
        assertThat(pending.owed()).isEqualTo(2);
        read('Z');
        read('Z');
        assertThat(pending.owed()).isZero();
    }

    @Test
    void aBackendThatMightStillFailAnExtendedMessageBeforeAQueryIsNotDrained() {
        sent(client, 'B', 'Q');
        assertThat(pending.release()).isEqualTo(BackendPool.Release.DIRTY);
        read('2');
        assertThat(pending.release()).as("the Bind is answered: the Query's ReadyForQuery will come")
                .isEqualTo(BackendPool.Release.BUSY);

        PendingResponses synced = new PendingResponses(TransactionStatus.IDLE, idle);
        for (char type : "PBES".toCharArray()) {
            synced.sent((byte) type, client);
        }
        assertThat(synced.release()).as("its Sync is answered whatever fails").isEqualTo(BackendPool.Release.BUSY);
    }

    @Test
    void anErrorDuringCopyInEndsCopyInSoTheClientsSyncCounts() {
        sent(client, 'P', 'B', 'E', 'S');
        read('1');
        read('2');
        read('G'); // the COPY's Sync was read in copy-in mode and ignored
        sent(client, 'd');
        read('E'); // bad data
        sent(client, 'S');
        assertThat(pending.owed()).isEqualTo(1);
        read('Z');
        assertThat(pending.owed()).isZero();
        assertThat(pending.release()).isEqualTo(BackendPool.Release.CLEAN);
    }

    @Test
    void aQuerySentDuringCopyInIsReadByTheCopyWhichItFails() {
        sent(client, 'Q'); // copy t from stdin
        read('G');
        sent(client, 'd', 'Q', 'Q'); // the first Query ends the COPY with 08P01 and is answered by nothing else
        assertThat(pending.owed()).isEqualTo(2);
        read('E');
        read('Z');
        read('C');
        read('Z');
        assertThat(pending.owed()).isZero();
        assertThat(pending.release()).isEqualTo(BackendPool.Release.CLEAN);
    }

    private void sent(ResponseTarget owner, char... types) {
        for (char type : types) {
            pending.sent((byte) type, owner);
        }
    }

    /** Reads one frame of {@code type}, runs the callbacks it answers, and says whose it was. */
    private ResponseTarget read(char type) {
        List<Runnable> answered = new ArrayList<>();
        Frame frame = frame(type);
        try {
            return pending.targetOf(frame, answered);
        } finally {
            frame.release();
            answered.forEach(Runnable::run);
        }
    }

    /** A minimal frame of {@code type}: ReadyForQuery idle, an empty body otherwise. */
    private static Frame frame(char type) {
        ByteBuf content = Unpooled.buffer();
        content.writeByte(type);
        if (type == 'Z') {
            content.writeInt(5).writeByte('I');
        } else {
            content.writeInt(4);
        }
        return new Frame(content);
    }
}
