package io.pgstitch.it;

import io.pgstitch.it.support.PostgresCluster;
import io.pgstitch.it.support.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Base of the tests that talk to one pgstitch with {@link TestProxy#standardRoutes}: the shared cluster, the
 * tenant databases, and a proxy started before the class and closed after it.
 */
@ExtendWith(PostgresExtension.class)
abstract class ProxiedTest {

    static PostgresCluster cluster;
    static TestProxy proxy;

    @BeforeAll
    static void startProxy(PostgresCluster postgres) throws Exception {
        cluster = postgres;
        Tenants.ensure(cluster);
        proxy = TestProxy.start(TestProxy.standardRoutes(cluster));
    }

    @AfterAll
    static void stopProxy() {
        if (proxy != null) {
            proxy.close();
            proxy = null;
        }
    }
}
