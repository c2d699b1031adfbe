package io.pgstitch.proxy.frontend;

import io.pgstitch.protocol.backend.BackendKeyData;
import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class CancelRegistryTest {

    private final CancelRegistry registry = new CancelRegistry(new SecureRandom());

    @Test
    void theExactKeyFindsItsTargetAndNothingElseDoes() {
        AtomicInteger cancels = new AtomicInteger();
        CancelRegistry.CancelTarget target = taken -> cancels.incrementAndGet();
        BackendKeyData key = registry.issue(target, 4);
        assertThat(key.processId()).isPositive();
        assertThat(key.secretKey()).hasSize(4);

        assertThat(registry.find(key.processId(), key.secretKey())).containsSame(target);
        byte[] forged = key.secretKey().clone();
        forged[3] ^= 1;
        assertThat(registry.find(key.processId(), forged)).isEmpty();
        assertThat(registry.find(key.processId() + 1, key.secretKey())).isEmpty();
        assertThat(registry.find(key.processId(), new byte[0])).isEmpty();
    }

    @Test
    void protocol32KeysAreLong() {
        assertThat(registry.issue(taken -> { }, 32).secretKey()).hasSize(32);
    }

    @Test
    void aRemovedKeyIsStale() {
        CancelRegistry.CancelTarget target = taken -> { };
        BackendKeyData key = registry.issue(target, 4);
        registry.remove(key.processId(), target);
        assertThat(registry.find(key.processId(), key.secretKey())).isEmpty();
        assertThat(registry.size()).isZero();
    }

    @Test
    void removingWithAnotherTargetKeepsTheKey() {
        CancelRegistry.CancelTarget owner = taken -> { };
        BackendKeyData key = registry.issue(owner, 4);
        registry.remove(key.processId(), taken -> { });
        assertThat(registry.find(key.processId(), key.secretKey())).containsSame(owner);
    }

    @Test
    void processIdsAreUniqueAmongLiveKeys() {
        java.util.Set<Integer> ids = new java.util.HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            ids.add(registry.issue(taken -> { }, 4).processId());
        }
        assertThat(ids).hasSize(10_000);
    }
}
