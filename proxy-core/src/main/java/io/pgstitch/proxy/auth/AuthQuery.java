package io.pgstitch.proxy.auth;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.pgstitch.conf.AuthQueryConfig;
import io.pgstitch.conf.ProxyConfig;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.conf.UserSecret;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code auth.auth_query}: the secret of a user the users file does not list, looked up on the shard the client is
 * routed to, in the routed database, by that shard's {@code admin_user} — PgBouncer's {@code auth_user} and
 * {@code auth_query}. One instance serves every session; it holds the configuration in force, a connection pool per
 * (shard, database), created at the first lookup there, and a cache of answers.
 *
 * <p>Never blocks its caller, so it may be called from an event loop: a lookup that is not cached runs on a small
 * pool of threads of its own ({@value #THREADS}), with a bounded queue ({@value #QUEUE} waiting lookups). Answers,
 * "no such user" included, are cached for {@code cache_ttl}, at most {@code cache_size} of them; failures are not
 * cached, and concurrent lookups of the same user share one query.
 *
 * <p>Failures complete the future with a FATAL {@link PgException} whose message names the shard and auth_query and
 * never contains a password: {@code 08001} when the lookup role cannot connect (wrong {@code admin_password}, shard
 * down, no connection within the shard's {@code pool.connect_timeout}), {@code 08006} when the connection breaks or
 * the query outlasts {@code auth.auth_timeout}, {@code 53300} when {@value #QUEUE} lookups are already waiting,
 * {@code XX000} when the query fails or returns something that is not (user name, secret).
 */
public final class AuthQuery implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AuthQuery.class);

    /** Lookups that run at once, over all shards; each holds one connection to a shard while its query runs. */
    static final int THREADS = 4;
    /** Lookups waiting for a thread. Beyond that a login is refused at once rather than queued without bound. */
    static final int QUEUE = 1000;

    /** Runs the query on a shard, blocking: JDBC in production ({@link AuthQueryPools}), a fake in unit tests. */
    interface Runner extends AutoCloseable {

        /**
         * @return the secret, or empty when the query returns no row or a null secret
         * @throws PgException naming the shard, for every failure
         */
        Optional<UserSecret> find(ShardConfig shard, String database, String user, String query, Duration timeout);

        /** Closes the connections of shards that are gone from {@code shards} or whose connection settings changed. */
        void retain(Map<String, ShardConfig> shards);

        @Override
        void close();
    }

    private record Key(String shard, String database, String user) {
    }

    /**
     * What a lookup ended with. A failure is an answer too, taken out of the cache as soon as it is known: the
     * cache never holds a failed future, for which Caffeine would log a warning with a stack trace each time.
     */
    private record Answer(Optional<UserSecret> secret, PgException failure) {

        CompletableFuture<Optional<UserSecret>> toFuture() {
            return failure == null ? CompletableFuture.completedFuture(secret)
                    : CompletableFuture.failedFuture(failure);
        }
    }

    /** What a reload replaces at once: the settings and the answers that were looked up under them. */
    private record State(AuthQueryConfig config, Map<String, ShardConfig> shards, Duration timeout,
                         AsyncCache<Key, Answer> cache) {
    }

    private final Runner runner;
    private final Ticker ticker;
    private final int queue;
    private final ThreadPoolExecutor executor;
    private final AtomicLong queries = new AtomicLong();
    private volatile State state;
    private volatile boolean closed;

    /** Lookups over JDBC (HikariCP + PgJDBC), as {@code config} says; nothing connects before the first lookup. */
    public AuthQuery(ProxyConfig config) {
        this(config, new AuthQueryPools(THREADS), THREADS, QUEUE, Ticker.systemTicker());
    }

    AuthQuery(ProxyConfig config, Runner runner, int threads, int queue, Ticker ticker) {
        this.runner = runner;
        this.ticker = ticker;
        this.queue = queue;
        AtomicInteger count = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue),
                task -> {
                    Thread thread = new Thread(task, "pgstitch-auth_query-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        executor.allowCoreThreadTimeOut(true);
        this.state = state(config, null);
    }

    /**
     * The secret of {@code user} on {@code shard}, from the cache or from running {@code auth.auth_query} there in
     * {@code database} as the shard's {@code admin_user}. Returns at once; may be called on an event loop.
     *
     * <p>A cached answer comes back as an already completed future, so its callbacks run at once on the calling
     * thread; any other completes on an auth_query thread. A caller on an event loop continues with
     * {@code future.whenCompleteAsync(..., channel.eventLoop())} before it touches its channel.
     *
     * <p>When a reload changed the shard since the caller routed, the lookup follows the configuration now in force.
     *
     * @param shard    the routed shard; its name is what counts
     * @param database the routed backend database (the query runs there)
     * @return the user's secret; empty when the shard has no such user, or the user has no password. Fails with
     *         the {@link PgException} described above (as the cause of a {@code CompletionException} where
     *         CompletableFuture wraps it: {@code join()}, {@code whenComplete})
     */
    public CompletableFuture<Optional<UserSecret>> lookup(ShardConfig shard, String database, String user) {
        State current = state;
        if (closed) {
            return CompletableFuture.failedFuture(shuttingDown());
        }
        if (current.config() == null) {
            return CompletableFuture.failedFuture(PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "auth_query is not configured (auth.auth_query)"));
        }
        ShardConfig inForce = current.shards().get(shard.name());
        if (inForce == null) {
            return CompletableFuture.failedFuture(PgException.fatal(SqlState.CONNECTION_FAILURE,
                    "shard \"" + shard.name() + "\": auth_query: the shard is no longer in the configuration"));
        }
        if (inForce.adminUser() == null) {
            return CompletableFuture.failedFuture(PgException.fatal(
                    SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                    "shard \"" + shard.name() + "\": auth_query needs shards." + shard.name() + ".admin_user"));
        }
        Key key = new Key(shard.name(), database, user);
        CompletableFuture<Answer> answer = current.cache().get(key, (ignored, cacheExecutor) ->
                submit(current, inForce, database, user));
        // After get() put the future in the cache, so the removal cannot come before the insertion; and before the
        // caller's future completes, so a caller that retries at once finds the failure gone.
        return answer.thenCompose(done -> {
            if (done.failure() != null) {
                current.cache().asMap().remove(key, answer);
            }
            return done.toFuture();
        });
    }

    /** Never fails: a failure is an {@link Answer} too. */
    private CompletableFuture<Answer> submit(State current, ShardConfig shard, String database, String user) {
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        try {
            executor.execute(() -> answer.complete(run(current, shard, database, user)));
        } catch (RejectedExecutionException e) {
            answer.complete(new Answer(null, closed ? shuttingDown() : PgException.fatal(SqlState.TOO_MANY_CONNECTIONS,
                    "shard \"" + shard.name() + "\": auth_query: " + queue + " lookups are already waiting")));
        }
        return answer;
    }

    private Answer run(State current, ShardConfig shard, String database, String user) {
        queries.incrementAndGet();
        try {
            return new Answer(runner.find(shard, database, user, current.config().query(), current.timeout()), null);
        } catch (PgException e) {
            log.warn("{}", e.getMessage());
            return new Answer(null, e);
        } catch (RuntimeException e) {
            // a bug in the runner must still end the login that waits for this answer, not hang it
            log.error("shard \"{}\": auth_query failed", shard.name(), e);
            return new Answer(null, PgException.fatal(SqlState.INTERNAL_ERROR, "shard \"" + shard.name()
                    + "\": auth_query failed: " + e.getClass().getSimpleName()));
        }
    }

    /**
     * Puts a reloaded configuration in force. A changed {@code auth.auth_query} drops every cached answer (they
     * answered another query); a shard that is gone or changed loses its cached answers and its connections.
     * Closing connections happens in the background, so this returns at once.
     */
    public synchronized void reconfigure(ProxyConfig next) {
        if (closed) {
            return;
        }
        State previous = state;
        State updated = state(next, previous);
        if (updated.cache() != null && updated.cache() == previous.cache()) {
            updated.cache().synchronous().asMap().keySet().removeIf(key ->
                    !Objects.equals(previous.shards().get(key.shard()), next.shards().get(key.shard())));
        }
        state = updated;
        runner.retain(updated.config() == null ? Map.of() : next.shards());
    }

    /** How many lookups went to a shard (cache misses), since the start. */
    public long queries() {
        return queries.get();
    }

    /**
     * Lookups whose task has ended, the cache's bookkeeping included: a test that moves the clock waits for this,
     * since a caller's continuation may run before the cache has noted when the answer came.
     */
    long finishedTasks() {
        return executor.getCompletedTaskCount();
    }

    /** Fails lookups from now on and closes every connection; lookups already waiting fail too. */
    @Override
    public synchronized void close() {
        closed = true;
        executor.shutdown();
        runner.close();
    }

    /** The cache of {@code previous} is kept when the auth_query settings are the same. */
    private State state(ProxyConfig config, State previous) {
        AuthQueryConfig settings = config.auth().authQuery();
        AsyncCache<Key, Answer> cache = null;
        if (settings != null) {
            cache = previous != null && settings.equals(previous.config()) ? previous.cache()
                    : Caffeine.newBuilder().expireAfterWrite(settings.cacheTtl()).maximumSize(settings.cacheSize())
                            .ticker(ticker).buildAsync();
        }
        return new State(settings, config.shards(), config.auth().timeout(), cache);
    }

    private static PgException shuttingDown() {
        return PgException.fatal(SqlState.ADMIN_SHUTDOWN, "auth_query: pgstitch is shutting down");
    }
}
