package io.pgstitch.it;

import io.pgstitch.it.RpcFixture.Via;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import org.hibernate.SessionFactory;
import org.hibernate.cfg.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.SQLException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An ORM through a JDBC URL (issue 14): Hibernate ORM over PgJDBC, its transactions under repeatable read, an RPC
 * function called with a native query. Directly the call is the first statement of Hibernate's transaction and
 * takes its snapshot before the engine works; through pgstitch it runs on an RPC connection and the statement
 * after it sees the engine's work. A call after the ORM's own statements in a transaction gets 25001.
 */
class RpcHibernateIT {

    private static final String DB = "rpc_orm";

    @RegisterExtension
    static final RpcFixture rpc = new RpcFixture(DB);

    /** A row of the engine's {@code instance} table, the ORM's to write. */
    @Entity
    @Table(name = "instance")
    public static class Instance {
        @Id
        @GeneratedValue(strategy = GenerationType.IDENTITY)
        Integer id;
        String name;

        protected Instance() {
        }

        Instance(String name) {
            this.name = name;
        }
    }

    private static SessionFactory sessionFactory(Via via) {
        return new Configuration()
                .addAnnotatedClass(Instance.class)
                .setProperty("jakarta.persistence.jdbc.url", "jdbc:postgresql://127.0.0.1:" + via.port() + "/" + DB)
                .setProperty("jakarta.persistence.jdbc.user", "postgres")
                .setProperty("jakarta.persistence.jdbc.password", "")
                .setProperty("hibernate.connection.isolation", "4") // Connection.TRANSACTION_REPEATABLE_READ
                .setProperty("hibernate.connection.pool_size", "1")
                .buildSessionFactory();
    }

    @Test
    void aNativeRpcCallFirstInAHibernateTransactionRunsOnAnRpcConnection() throws Exception {
        for (Via via : rpc.both()) {
            String module = via.module("hibernate");
            try (SessionFactory factory = sessionFactory(via)) {
                List<Object> seen = factory.fromTransaction(session -> {
                    Integer items = session.createNativeQuery("select items from iasql_install(:m)", Integer.class)
                            .setParameter("m", module).getSingleResult();
                    Long count = session.createNativeQuery("select count(*) from installed where module = :m",
                            Long.class).setParameter("m", module).getSingleResult();
                    session.persist(new Instance(module));
                    return List.of(items, count);
                });
                assertThat(seen).as(via.name()).containsExactly(3, via.direct() ? 0L : 3L);

                String applied = factory.fromTransaction(session -> session.createNativeQuery(
                        "select iasql_apply()", String.class).getSingleResult());
                assertThat(applied).as("the engine sees what the ORM committed")
                        .isEqualTo("instances=" + rpc.engine().count("SELECT count(*) FROM instance"));

                if (via.direct()) {
                    continue;
                }
                assertThatThrownBy(() -> factory.inTransaction(session -> {
                    session.persist(new Instance(module + "-late"));
                    session.flush();
                    session.createNativeQuery("select iasql_apply()", String.class).getSingleResult();
                })).as("a call after the ORM's own statements").rootCause()
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("25001");
                            assertThat(e.getMessage()).contains("iasql_apply");
                        });
                assertThat(rpc.engine().count("SELECT count(*) FROM instance WHERE name = '" + module + "-late'"))
                        .as("rolled back").isZero();
            }
        }
    }
}
