package io.pgstitch.proxy.auth;

import io.netty.buffer.ByteBuf;
import io.pgstitch.conf.AuthMethod;
import io.pgstitch.conf.UserSecret;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.auth.Md5Password;
import io.pgstitch.protocol.auth.Passwords;
import io.pgstitch.protocol.auth.ScramKeys;
import io.pgstitch.protocol.auth.ScramSha256Server;
import io.pgstitch.protocol.auth.ScramVerifier;
import io.pgstitch.protocol.backend.AuthenticationCleartextPassword;
import io.pgstitch.protocol.backend.AuthenticationMd5Password;
import io.pgstitch.protocol.backend.AuthenticationSasl;
import io.pgstitch.protocol.backend.AuthenticationSaslContinue;
import io.pgstitch.protocol.backend.AuthenticationSaslFinal;
import io.pgstitch.protocol.backend.BackendMessage;
import io.pgstitch.protocol.frontend.PasswordMessage;
import io.pgstitch.protocol.frontend.SaslInitialResponse;
import io.pgstitch.protocol.frontend.SaslResponse;
import io.pgstitch.proxy.backend.ShardCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;

/**
 * One client's login, as PostgreSQL runs it:
 *
 * <pre>
 * trust           nothing to ask
 * password        AuthenticationCleartextPassword  <- PasswordMessage
 * md5             AuthenticationMD5Password(salt)  <- PasswordMessage "md5..."; a user whose secret is SCRAM gets
 *                                                     SCRAM instead, as in PostgreSQL
 * scram-sha-256   AuthenticationSASL               <- SASLInitialResponse -> AuthenticationSASLContinue
 *                                                  <- SASLResponse        -> AuthenticationSASLFinal
 * </pre>
 *
 * An unknown user (or one whose secret cannot answer the method) goes through the same exchange against a mock
 * secret and fails at the same point with the same FATAL 28P01 as a wrong password; the reason goes to the
 * server log only. A message the exchange does not expect is FATAL 08P01. AuthenticationOk is the session's
 * to send, once its backend is ready. Lives on the client's event loop; one instance per client.
 */
public final class LoginExchange {

    private static final Logger log = LoggerFactory.getLogger(LoginExchange.class);

    /** Where {@link ClientAuthenticator} counts logins. */
    interface Counter {
        void count(String mechanism, String outcome);
    }

    /** What the next client message must be. */
    private enum Step {
        CLEARTEXT_PASSWORD, MD5_PASSWORD, SASL_INITIAL_RESPONSE, SASL_RESPONSE, DONE
    }

    private final String user;
    private final UserSecret secret;
    private final Counter counter;
    private final BackendMessage request;
    private Step step;
    private String mechanism;
    private byte[] md5Salt;
    private byte[] mockSalt;
    /** Method password, unknown user: whether to spend a SCRAM key derivation or an md5 hash on the answer. */
    private boolean mockScram;
    private ScramSha256Server scram;
    private boolean authenticated;
    /** The client's keys, from its SCRAM proof against a stored verifier (not one derived from a plaintext). */
    private ScramKeys scramKeys;

    private LoginExchange(String user, UserSecret secret, Counter counter, String mechanism, Step step,
                          BackendMessage request) {
        this.user = user;
        this.secret = secret;
        this.counter = counter;
        this.mechanism = mechanism;
        this.step = step;
        this.request = request;
    }

    /**
     * What is known of the user before its exchange.
     *
     * @param secret      its secret (users file or auth_query); null for an unknown user
     * @param verifier    its SCRAM verifier (stored, or derived from a plaintext secret); null when it has none
     * @param mostlyScram whether most users' secrets are SCRAM: the challenge an unknown user gets
     */
    record Known(UserSecret secret, ScramVerifier verifier, boolean mostlyScram) {

        static final Known NOBODY = new Known(null, null, true);
    }

    /**
     * @param known   what is known of the user (secret and verifier)
     * @param binding tls-server-end-point of our certificate on this connection; null without TLS
     */
    static LoginExchange start(AuthMethod method, String user, Known known, byte[] mockSecret,
                               byte[] binding, SecureRandom random, Counter counter) {
        UserSecret secret = known.secret();
        switch (method) {
            case TRUST -> {
                LoginExchange trust = new LoginExchange(user, secret, counter, "trust", Step.DONE, null);
                trust.authenticated = true;
                counter.count("trust", "ok");
                return trust;
            }
            case PASSWORD -> {
                LoginExchange cleartext = new LoginExchange(user, secret, counter, "password",
                        Step.CLEARTEXT_PASSWORD, AuthenticationCleartextPassword.INSTANCE);
                cleartext.mockSalt = ScramVerifier.mockSalt(mockSecret, user);
                cleartext.mockScram = known.mostlyScram();
                return cleartext;
            }
            case MD5 -> {
                // PostgreSQL answers md5 with SCRAM for a SCRAM secret; an unknown user, and a plaintext secret
                // (which can answer either), get what most users get, so that the kind of challenge does not
                // tell whether the name exists.
                boolean scram = secret instanceof UserSecret.Scram
                        || (!(secret instanceof UserSecret.Md5) && known.mostlyScram());
                if (!scram) {
                    byte[] salt = new byte[4];
                    random.nextBytes(salt);
                    LoginExchange md5 = new LoginExchange(user, secret, counter, "md5", Step.MD5_PASSWORD,
                            new AuthenticationMd5Password(salt));
                    md5.md5Salt = salt;
                    return md5;
                }
            }
            case SCRAM_SHA_256 -> {
            }
            default -> throw new IllegalArgumentException("no exchange for " + method);
        }
        // the user's verifier (stored, or derived from a plaintext secret when the file was read); an md5 hash
        // cannot answer SCRAM: the mock, as for an unknown user
        ScramVerifier verifier = known.verifier();
        ScramSha256Server server = new ScramSha256Server(
                verifier != null ? verifier : ScramVerifier.mock(mockSecret, user), binding);
        LoginExchange sasl = new LoginExchange(user, secret, counter, "scram-sha-256", Step.SASL_INITIAL_RESPONSE,
                new AuthenticationSasl(server.mechanisms()));
        sasl.scram = server;
        return sasl;
    }

    /** The user's secret from the users file (or auth_query); null for an unknown user. */
    public UserSecret secret() {
        return secret;
    }

    /**
     * What the client's SCRAM proof revealed that can answer the shard for the same user (SCRAM pass-through);
     * null unless the client authenticated with SCRAM against a stored verifier.
     */
    public ShardCredentials scramCredentials() {
        return scramKeys == null ? null : new ShardCredentials.Scram(scramKeys);
    }

    /** What to send the client to begin; null when it is authenticated already (trust). */
    public BackendMessage request() {
        return request;
    }

    public boolean authenticated() {
        return authenticated;
    }

    /** {@code trust}, {@code password}, {@code md5}, {@code scram-sha-256} or {@code scram-sha-256-plus}. */
    public String mechanism() {
        return mechanism;
    }

    /**
     * Takes the body of the client's next message (type 'p'; the caller keeps the buffer).
     *
     * @return what to send back (SASL continue / final), or null when there is nothing to send
     * @throws PgException FATAL 28P01 for a wrong password or unknown user, FATAL 08P01 for a malformed message
     */
    public BackendMessage receive(ByteBuf body) {
        try {
            return switch (step) {
                case CLEARTEXT_PASSWORD -> finish(checkCleartext(PasswordMessage.decode(body).password()), null);
                case MD5_PASSWORD -> finish(secret != null && Md5Password.verify(user, secret.text(), md5Salt,
                        PasswordMessage.decode(body).password()), null);
                case SASL_INITIAL_RESPONSE -> {
                    SaslInitialResponse initial = SaslInitialResponse.decode(body);
                    step = Step.SASL_RESPONSE;
                    byte[] serverFirst = scram.serverFirstMessage(initial.mechanism(), initial.data());
                    mechanism = initial.mechanism().toLowerCase(java.util.Locale.ROOT);
                    yield new AuthenticationSaslContinue(serverFirst);
                }
                case SASL_RESPONSE -> {
                    ScramSha256Server.Outcome outcome = scram.verifyClientFinal(SaslResponse.decode(body).data());
                    if (outcome instanceof ScramSha256Server.Outcome.Authenticated ok
                            && secret instanceof UserSecret.Scram) {
                        scramKeys = ok.keys();
                    }
                    yield finish(outcome instanceof ScramSha256Server.Outcome.Authenticated,
                            outcome instanceof ScramSha256Server.Outcome.Authenticated ok
                                    ? new AuthenticationSaslFinal(ok.serverFinalMessage()) : null);
                }
                case DONE -> throw unexpected((byte) 'p');
            };
        } catch (PgException e) {
            step = Step.DONE;
            if (!SqlState.INVALID_PASSWORD.equals(e.sqlState())) {
                counter.count(mechanism, "invalid");
            }
            throw e;
        }
    }

    /** PostgreSQL's answer to any other message during the exchange. */
    public PgException unexpected(byte type) {
        String expected = scram != null ? "SASL response" : "password response";
        return PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                "expected " + expected + ", got message type " + (char) type);
    }

    /**
     * Method {@code password}: checked against whatever form the secret has. An unknown user costs what most
     * users' check costs (a SCRAM key derivation, or an md5 hash), so the time taken does not tell the name
     * does not exist.
     */
    private boolean checkCleartext(String password) {
        if (secret == null) {
            if (mockScram) {
                ScramVerifier.fromPassword(password, mockSalt, ScramVerifier.DEFAULT_ITERATIONS);
            } else {
                Md5Password.hash(user, password);
            }
            return false;
        }
        return Passwords.verifyCleartext(user, secret.text(), password);
    }

    private BackendMessage finish(boolean ok, BackendMessage reply) {
        step = Step.DONE;
        if (!ok) {
            counter.count(mechanism, "failed");
            log.info("{} authentication failed for user \"{}\": {}", mechanism, user,
                    secret == null ? "no such user in auth.users_file"
                            : "wrong password, or a secret (" + secret.getClass().getSimpleName()
                            + ") that cannot answer " + mechanism);
            throw Passwords.authenticationFailed(user);
        }
        authenticated = true;
        counter.count(mechanism, "ok");
        return reply;
    }
}
