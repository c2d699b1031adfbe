package io.pgstitch.proxy.auth;

import io.micrometer.core.instrument.MeterRegistry;
import io.pgstitch.conf.AuthConfig;
import io.pgstitch.conf.AuthMethod;
import io.pgstitch.conf.ConfigException;
import io.pgstitch.conf.UserSecret;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.auth.ChannelBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLSession;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Decides how each client proves who it is ({@code auth.method}, {@code auth.rules}) and starts the exchange:
 * shared by all sessions, it holds the users file in force and the secret behind the mock answers for unknown
 * users. Counts logins in {@code pgstitch.client.logins}, tagged {@code method} and {@code outcome}.
 */
public final class ClientAuthenticator {

    private static final Logger log = LoggerFactory.getLogger(ClientAuthenticator.class);

    /**
     * Where a user missing from the users file is looked up ({@code auth.auth_query} on the shard the database ID
     * routes to). Returns at once; completes off the event loops.
     */
    @FunctionalInterface
    public interface UserLookup {
        /** The user's secret; empty when unknown (or the database is not routed). */
        CompletableFuture<Optional<UserSecret>> lookup(String databaseId, String user);
    }

    private final Supplier<AuthConfig> config;
    private final MeterRegistry meters;
    private final UserLookup lookup;
    private final SecureRandom random = new SecureRandom();
    /** Lives as long as the process, like PostgreSQL's mock_auth_nonce: an unknown user gets the same salt each time. */
    private final byte[] mockSecret = new byte[32];
    private volatile UsersSource users;

    /** @throws ConfigException when the users file does not read cleanly */
    public ClientAuthenticator(Supplier<AuthConfig> config, MeterRegistry meters, UserLookup lookup)
            throws ConfigException {
        this.config = config;
        this.meters = meters;
        this.lookup = lookup;
        random.nextBytes(mockSecret);
        AuthConfig initial = config.get();
        this.users = initial.usersFile() == null ? null : UsersSource.load(initial.usersFile(), mockSecret);
    }

    /**
     * A reloaded configuration: a changed {@code users_file} path is read now. A file that fails (it was
     * checked when the configuration loaded, so only a race gets here) leaves the previous one in force.
     */
    public void reconfigure(AuthConfig next) {
        UsersSource current = users;
        if (next.usersFile() == null || (current != null && current.path().equals(next.usersFile()))) {
            return;
        }
        try {
            users = UsersSource.load(next.usersFile(), mockSecret);
            log.info("auth.users_file is now {}", next.usersFile());
        } catch (ConfigException e) {
            log.warn("auth.users_file {} not read, keeping {}: {}", next.usersFile(),
                    current == null ? "none" : current.path(), String.join("; ", e.problems()));
        }
    }

    /** Re-reads the users file if it changed. Blocking file I/O: called off the event loops. */
    public void refreshUsersFile() {
        UsersSource source = users;
        if (source != null) {
            source.refresh();
        }
    }

    /** How long a client may take from connecting to being logged in. */
    public Duration timeout() {
        return config.get().timeout();
    }

    /**
     * Picks the method for this client and begins its exchange. A user the users file lacks is looked up with
     * {@code auth.auth_query} when that is set and the method asks for a password: the returned future then
     * completes on an auth_query thread, else it is complete already. A user found nowhere goes through the same
     * exchange as a wrong password.
     *
     * @param address the client's address, null when it has none (then no rule with an address matches)
     * @param tls     the client connection's TLS session, null without TLS
     * @throws PgException FATAL 28000 when a rule rejects the client, or method {@code password} would send the
     *                     password in the clear
     */
    public CompletableFuture<LoginExchange> begin(String database, String user, InetAddress address,
                                                  SSLSession tls) {
        AuthConfig auth = config.get();
        AuthMethod method = auth.methodFor(database, user, address, tls != null);
        switch (method) {
            case REJECT -> {
                count(method.spelling(), "rejected");
                throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                        "auth.rules rejects connection for host \"" + (address == null ? "" : address.getHostAddress())
                                + "\", user \"" + user + "\", database \"" + database + "\", "
                                + (tls != null ? "SSL encryption" : "no encryption"));
            }
            case PASSWORD -> {
                if (tls == null && !auth.allowPlaintextPassword()) {
                    count(method.spelling(), "rejected");
                    throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                                    "password authentication without TLS is refused: the password would cross the "
                                            + "network in the clear")
                            .withHint("Connect with sslmode=require, or ask the administrator to set "
                                    + "auth.allow_plaintext_password.");
                }
            }
            default -> {
            }
        }
        UsersSource source = users;
        UsersSource.Users current = source != null ? source.current() : null;
        // hashing our certificate is needed only where SCRAM may be offered (md5 may turn into SCRAM)
        boolean mayOfferScram = method == AuthMethod.SCRAM_SHA_256 || method == AuthMethod.MD5;
        byte[] binding = tls == null || !mayOfferScram ? null : ChannelBinding.tlsServerEndPoint(tls, true);
        LoginExchange.Known known = current == null ? LoginExchange.Known.NOBODY : current.known(user);
        if (known.secret() != null || !method.needsPassword() || auth.authQuery() == null) {
            return CompletableFuture.completedFuture(
                    LoginExchange.start(method, user, known, mockSecret, binding, random, this::count));
        }
        boolean mostlyScram = known.mostlyScram();
        return lookup.lookup(database, user).thenApply(secret -> LoginExchange.start(method, user,
                secret.map(found -> known(user, found, mostlyScram)).orElse(LoginExchange.Known.NOBODY), mockSecret,
                binding, random, this::count));
    }

    /** An auth_query secret, with the verifier its exchange needs (derived here, off the event loops). */
    private LoginExchange.Known known(String user, UserSecret secret, boolean mostlyScram) {
        return new LoginExchange.Known(secret, UsersSource.Users.verifier(user, secret, mockSecret), mostlyScram);
    }

    void count(String method, String outcome) {
        meters.counter("pgstitch.client.logins", "method", method, "outcome", outcome).increment();
    }
}
