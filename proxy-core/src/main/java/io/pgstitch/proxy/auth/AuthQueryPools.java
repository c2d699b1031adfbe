package io.pgstitch.proxy.auth;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.conf.ShardTlsMode;
import io.pgstitch.conf.UserSecret;
import io.pgstitch.conf.UsersFile;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.sqlsplit.SqlLexer;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The JDBC side of {@link AuthQuery}: a small HikariCP pool of PgJDBC connections per (shard, database), logged in
 * as the shard's {@code admin_user}, created at the first lookup there. Blocking; runs on AuthQuery's threads only.
 */
final class AuthQueryPools implements AuthQuery.Runner {

    private static final Logger log = LoggerFactory.getLogger(AuthQueryPools.class);

    /** HikariCP's lower bounds: a shorter connect timeout or idle timeout is raised to these anyway. */
    private static final long MIN_CONNECT_TIMEOUT_MILLIS = 250;
    private static final long IDLE_TIMEOUT_MILLIS = 60_000;

    private record Where(String shard, String database) {
    }

    /** What a pool's connections depend on: when a reload changes any of it, the pool is replaced. */
    private record Target(String host, int port, String user, String password, ShardTlsMode tls, Path tlsCa,
                          Duration connectTimeout) {

        static Target of(ShardConfig shard) {
            return new Target(shard.host(), shard.port(), shard.adminUser(), shard.adminPassword(), shard.tls(),
                    shard.tlsCa(), shard.pool().connectTimeout());
        }

        @Override
        public String toString() {
            return "Target[" + user + "@" + host + ":" + port + ", tls " + tls.spelling() + "]"; // no password
        }
    }

    private record Pool(Target target, HikariDataSource dataSource, AtomicLong lastUsedNanos) {

        /** Unused for the idle timeout, no connection lent: nothing is lost by closing it. */
        boolean idle(long now) {
            return now - lastUsedNanos.get() > TimeUnit.MILLISECONDS.toNanos(IDLE_TIMEOUT_MILLIS)
                    && dataSource.getHikariPoolMXBean() != null
                    && dataSource.getHikariPoolMXBean().getActiveConnections() == 0;
        }
    }

    /**
     * The query in PgJDBC's terms. auth_query is written as PgBouncer's, with {@code $1} for the user name, but
     * PgJDBC knows only {@code ?} placeholders (and reads {@code ??} as a literal {@code ?}, such as jsonb's
     * operator). The lexer finds parameters and operators outside strings, identifiers and comments.
     *
     * @param parameters how many {@code ?} there are, each {@code $1}
     */
    record JdbcQuery(String sql, int parameters) {

        static JdbcQuery of(ShardConfig shard, String query) {
            Rewrite rewrite = new Rewrite(query);
            SqlLexer.scan(query, true, rewrite);
            if (rewrite.otherParameter != null || rewrite.parameters == 0) {
                throw PgException.fatal(SqlState.INTERNAL_ERROR, "shard \"" + shard.name() + "\": auth_query must "
                        + "use $1 for the user name and no other parameter"
                        + (rewrite.otherParameter == null ? "" : ", found " + rewrite.otherParameter));
            }
            return new JdbcQuery(rewrite.sql.append(query, rewrite.copied, query.length()).toString(),
                    rewrite.parameters);
        }
    }

    private static final class Rewrite implements SqlLexer.TokenSink {
        private final String query;
        private final StringBuilder sql;
        private int copied;
        private int parameters;
        private String otherParameter;

        Rewrite(String query) {
            this.query = query;
            this.sql = new StringBuilder(query.length() + 8);
        }

        @Override
        public boolean token(SqlLexer.TokenType type, int start, int end) {
            String text = query.substring(start, end);
            if (type == SqlLexer.TokenType.PARAMETER) {
                if (!text.equals("$1")) {
                    otherParameter = text;
                    return false;
                }
                replace(start, end, "?");
                parameters++;
            } else if (type == SqlLexer.TokenType.OPERATOR && text.indexOf('?') >= 0) {
                replace(start, end, text.replace("?", "??"));
            }
            return true;
        }

        private void replace(int start, int end, String replacement) {
            sql.append(query, copied, start).append(replacement);
            copied = end;
        }
    }

    private final int size;
    /** Shared by every pool's housekeeping, and closes replaced pools: HikariCP would start a thread per pool. */
    private final ScheduledThreadPoolExecutor housekeeping;
    private final ConcurrentMap<Where, Pool> pools = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private final LongSupplier nanoClock;

    /** @param size most connections per (shard, database); more lookups than that at once wait for one */
    AuthQueryPools(int size) {
        this(size, System::nanoTime);
    }

    AuthQueryPools(int size, LongSupplier nanoClock) {
        this.size = size;
        this.nanoClock = nanoClock;
        this.housekeeping = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "pgstitch-auth_query-housekeeping");
            thread.setDaemon(true);
            return thread;
        });
        housekeeping.setRemoveOnCancelPolicy(true);
        // one pool per database looked up lately, not per database ever looked up
        housekeeping.scheduleWithFixedDelay(this::closeIdle, IDLE_TIMEOUT_MILLIS, IDLE_TIMEOUT_MILLIS,
                TimeUnit.MILLISECONDS);
    }

    /** Closes the pools nobody used for their idle timeout; the next lookup there makes a new one. */
    synchronized void closeIdle() {
        long now = nanoClock.getAsLong();
        pools.values().removeIf(pool -> {
            boolean idle = pool.idle(now);
            if (idle) {
                closeLater(pool);
            }
            return idle;
        });
    }

    /** How many (shard, database) pools are open. */
    int poolCount() {
        return pools.size();
    }

    @Override
    public Optional<UserSecret> find(ShardConfig shard, String database, String user, String query,
                                     Duration timeout) {
        Connection connection;
        try {
            connection = pool(shard, database).dataSource().getConnection();
        } catch (SQLException e) {
            throw failure(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION, shard, "cannot connect as \""
                    + shard.adminUser() + "\" to database \"" + database + "\"", e);
        }
        JdbcQuery jdbc = JdbcQuery.of(shard, query);
        try (connection; PreparedStatement statement = connection.prepareStatement(jdbc.sql())) {
            statement.setQueryTimeout((int) Math.max(1, timeout.toSeconds()));
            for (int i = 1; i <= jdbc.parameters(); i++) {
                statement.setString(i, user);
            }
            try (ResultSet rows = statement.executeQuery()) {
                return secret(shard, database, user, rows);
            }
        } catch (SQLException e) {
            String state = e.getSQLState();
            // class 08 is the connection; 57 is a cancel (the query timeout) or a server shutting down
            boolean lost = state == null || state.startsWith("08") || state.startsWith("57");
            throw failure(lost ? SqlState.CONNECTION_FAILURE : SqlState.INTERNAL_ERROR, shard,
                    "failed in database \"" + database + "\"", e);
        }
    }

    /** PgBouncer's contract: no row, or one row of (user name, secret); a null secret cannot log in. */
    private static Optional<UserSecret> secret(ShardConfig shard, String database, String user, ResultSet rows)
            throws SQLException {
        int columns = rows.getMetaData().getColumnCount();
        if (columns != 2) {
            throw PgException.fatal(SqlState.INTERNAL_ERROR, "shard \"" + shard.name() + "\": auth_query must return "
                    + "two columns (user name, secret), it returned " + columns);
        }
        if (!rows.next()) {
            return Optional.empty();
        }
        String secret = rows.getString(2);
        if (rows.next()) {
            throw PgException.fatal(SqlState.INTERNAL_ERROR, "shard \"" + shard.name() + "\": auth_query returned "
                    + "more than one row for user \"" + user + "\" in database \"" + database + "\"");
        }
        if (secret == null || secret.isEmpty()) {
            log.debug("shard \"{}\": auth_query found no password for user \"{}\"", shard.name(), user);
            return Optional.empty();
        }
        try {
            return Optional.of(UsersFile.classify(secret));
        } catch (IllegalArgumentException e) {
            throw PgException.fatal(SqlState.INTERNAL_ERROR, "shard \"" + shard.name() + "\": auth_query returned a "
                    + "malformed secret for user \"" + user + "\": " + e.getMessage());
        }
    }

    /** The pool for (shard, database), created now when there is none or the shard's settings changed. */
    private Pool pool(ShardConfig shard, String database) {
        Where where = new Where(shard.name(), database);
        Target target = Target.of(shard);
        Pool pool = pools.get(where);
        if (pool != null && pool.target().equals(target)) {
            pool.lastUsedNanos().set(nanoClock.getAsLong());
            return pool;
        }
        synchronized (this) { // rare: one lock keeps two threads from both starting a pool
            if (closed) {
                throw PgException.fatal(SqlState.ADMIN_SHUTDOWN, "auth_query: pgstitch is shutting down");
            }
            pool = pools.get(where);
            if (pool == null || !pool.target().equals(target)) {
                Pool replaced = pool;
                pool = new Pool(target, new HikariDataSource(hikari(shard, database)),
                        new AtomicLong(nanoClock.getAsLong()));
                pools.put(where, pool);
                if (replaced != null) {
                    closeLater(replaced);
                }
            }
            return pool;
        }
    }

    @Override
    public synchronized void retain(Map<String, ShardConfig> shards) {
        pools.entrySet().removeIf(entry -> {
            ShardConfig shard = shards.get(entry.getKey().shard());
            boolean stale = shard == null || !Target.of(shard).equals(entry.getValue().target());
            if (stale) {
                closeLater(entry.getValue());
            }
            return stale;
        });
    }

    @Override
    public synchronized void close() {
        closed = true;
        pools.values().forEach(pool -> pool.dataSource().close());
        pools.clear();
        housekeeping.shutdown();
    }

    /** HikariCP's close waits for connections in use (up to 10 s): not on the thread of a lookup or a reload. */
    private void closeLater(Pool pool) {
        log.debug("auth_query: closing {}", pool.dataSource().getPoolName());
        housekeeping.execute(() -> pool.dataSource().close());
    }

    private HikariConfig hikari(ShardConfig shard, String database) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("auth_query " + shard.name() + "/" + database);
        config.setDataSource(dataSource(shard, database));
        config.setUsername(shard.adminUser());
        config.setPassword(shard.adminPassword());
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(0);
        config.setIdleTimeout(IDLE_TIMEOUT_MILLIS);
        config.setConnectionTimeout(Math.max(MIN_CONNECT_TIMEOUT_MILLIS, shard.pool().connectTimeout().toMillis()));
        config.setInitializationFailTimeout(-1); // connect at the first lookup, not when the pool is made
        config.setScheduledExecutor(housekeeping);
        return config;
    }

    /** Where and how to connect: the shard's address, the routed database, TLS as the shard's {@code tls}. */
    static PGSimpleDataSource dataSource(ShardConfig shard, String database) {
        PGSimpleDataSource source = new PGSimpleDataSource();
        source.setServerNames(new String[] {shard.host()});
        source.setPortNumbers(new int[] {shard.port()});
        source.setDatabaseName(database);
        source.setApplicationName("pgstitch auth_query");
        source.setSslMode(shard.tls().spelling()); // the same words as libpq's sslmode
        if (shard.tls().verifies()) {
            source.setSslRootCert(shard.tlsCa().toString());
        }
        source.setGssEncMode("disable");
        int connectSeconds = (int) Math.max(1, shard.pool().connectTimeout().toSeconds());
        source.setConnectTimeout(connectSeconds);
        source.setLoginTimeout(connectSeconds);
        source.setTcpKeepAlive(true);
        return source;
    }

    /** Names the shard and auth_query; PgJDBC's messages carry the server's, never the password sent. */
    private static PgException failure(String sqlState, ShardConfig shard, String what, SQLException e) {
        // HikariCP's timeout says only "Connection is not available"; the reason is the cause it keeps
        Throwable reason = e.getCause() instanceof SQLException cause ? cause : e;
        return PgException.fatal(sqlState, "shard \"" + shard.name() + "\": auth_query " + what + ": "
                + reason.getMessage());
    }
}
