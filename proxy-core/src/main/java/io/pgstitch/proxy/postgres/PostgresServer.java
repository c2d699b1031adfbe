package io.pgstitch.proxy.postgres;

/** A PostgreSQL server the demo or a test talks to as its superuser. */
public interface PostgresServer extends AutoCloseable {

    String host();

    int port();

    /** Runs {@code sql} (one or more statements) in {@code database}; fails with the server's message. */
    void execute(String database, String sql);

    default void createDatabase(String name) {
        execute("postgres", "CREATE DATABASE \"" + name.replace("\"", "\"\"") + "\"");
    }

    default String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port() + "/" + database;
    }

    @Override
    void close();
}
