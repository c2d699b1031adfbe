package io.pgstitch.proxy.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Promise;
import io.pgstitch.conf.RequireAuth;
import io.pgstitch.conf.ShardConfig;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.auth.Md5Password;
import io.pgstitch.protocol.auth.ChannelBinding;
import io.pgstitch.protocol.auth.ScramSha256Client;
import io.pgstitch.protocol.backend.Authentication;
import io.pgstitch.protocol.backend.AuthenticationCleartextPassword;
import io.pgstitch.protocol.backend.AuthenticationMd5Password;
import io.pgstitch.protocol.backend.AuthenticationOk;
import io.pgstitch.protocol.backend.AuthenticationSasl;
import io.pgstitch.protocol.backend.AuthenticationSaslContinue;
import io.pgstitch.protocol.backend.AuthenticationSaslFinal;
import io.pgstitch.protocol.backend.BackendKeyData;
import io.pgstitch.protocol.backend.ErrorResponse;
import io.pgstitch.protocol.backend.ParameterStatus;
import io.pgstitch.protocol.backend.ReadyForQuery;
import io.pgstitch.protocol.frontend.FrontendMessage;
import io.pgstitch.protocol.frontend.PasswordMessage;
import io.pgstitch.protocol.frontend.SaslInitialResponse;
import io.pgstitch.protocol.frontend.SaslResponse;
import io.pgstitch.protocol.frontend.StartupMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Logs pgstitch in to a shard: sends the StartupMessage, answers the authentication exchange with the
 * shard's configured credentials (SCRAM-SHA-256, MD5 or cleartext), collects ParameterStatus and
 * BackendKeyData, and completes the promise at the first ReadyForQuery, removing itself from the pipeline.
 *
 * <p>Every failure completes the promise with a {@link PgException} whose message names the shard.
 */
final class BackendStartup extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(BackendStartup.class);

    private final ShardConfig shard;
    private final ShardLogin login;
    private final StartupMessage startup;
    private final Promise<BackendConnection> promise;
    /** Told the server's connection limit once logged in (see {@link ConnectionLimitQuery}); null: not asked. */
    private final IntConsumer connectionLimit;
    private final Map<String, String> parameters = new LinkedHashMap<>();
    private BackendKeyData keyData;
    private ScramSha256Client scram;
    private boolean scramVerified;
    /** Whether the shard's method has been checked against require_auth (at its first request). */
    private boolean methodChecked;

    BackendStartup(ShardConfig shard, ShardLogin login, StartupMessage startup, Promise<BackendConnection> promise,
                   IntConsumer connectionLimit) {
        this.shard = shard;
        this.login = login;
        this.startup = startup;
        this.promise = promise;
        this.connectionLimit = connectionLimit;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        send(ctx, startup);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame frame = (Frame) msg;
        try {
            handle(ctx, frame);
        } catch (PgException e) {
            fail(ctx, e);
        } finally {
            frame.release();
        }
    }

    private void handle(ChannelHandlerContext ctx, Frame frame) {
        if (!frame.isComplete() && frame.type() == 'N') {
            return; // a large notice, relayed piecewise: not read during login either
        }
        if (!frame.isComplete()) {
            throw violation("unexpected message type '" + (char) frame.type() + "' during startup");
        }
        ByteBuf body = frame.body();
        switch (frame.type()) {
            case 'R' -> authenticate(ctx, Authentication.decode(body));
            case 'S' -> {
                ParameterStatus status = ParameterStatus.decode(body);
                parameters.put(status.name(), status.value());
            }
            case 'K' -> keyData = BackendKeyData.decode(body);
            case 'E' -> {
                PgException error = PgException.of(ShardErrors.naming(ErrorResponse.decode(body),
                        "shard \"" + shard.name() + "\" (" + shard.host() + ":" + shard.port() + ", user \""
                                + login.user() + "\") during login"));
                log.warn("shard {} refused login: {} ({})", shard.name(), error.getMessage(), error.sqlState());
                fail(ctx, error);
            }
            case 'Z' -> ready(ctx, ReadyForQuery.decode(body));
            case 'N', 'v' -> log.debug("shard {} sent '{}' during startup", shard.name(), (char) frame.type());
            default -> throw violation("unexpected message type '" + (char) frame.type() + "' during startup");
        }
    }

    private void authenticate(ChannelHandlerContext ctx, Authentication request) {
        if (request instanceof AuthenticationOk) {
            if (!methodChecked) {
                checkRequired("none"); // logged in without being asked for anything
            }
            if (scram != null && !scramVerified) {
                // a server (or a man in the middle, with -PLUS) that skips SCRAM's last step has not
                // proved it knows the secret
                throw refused("ended SCRAM authentication without proving it knows the password");
            }
            return;
        }
        if (request instanceof AuthenticationCleartextPassword) {
            checkRequired("password");
            send(ctx, new PasswordMessage(password("cleartext")));
        } else if (request instanceof AuthenticationMd5Password md5) {
            checkRequired("md5");
            send(ctx, new PasswordMessage(md5Answer(md5.salt())));
        } else if (request instanceof AuthenticationSasl sasl) {
            checkRequired("scram-sha-256");
            scram = scramClient(ctx, sasl);
            if (scram == null) {
                throw refused("offers only SASL mechanisms " + sasl.mechanisms());
            }
            send(ctx, new SaslInitialResponse(scram.mechanism(), scram.clientFirstMessage()));
        } else if (request instanceof AuthenticationSaslContinue next && scram != null) {
            byte[] clientFinal;
            try {
                clientFinal = scram.clientFinalMessage(next.data());
            } catch (PgException e) { // pass-through keys from another verifier than the shard's
                throw PgException.fatal(e.sqlState(), "pgstitch cannot log in to shard \"" + shard.name()
                        + "\" as \"" + login.user() + "\": " + e.getMessage()).withHint(e.hint());
            }
            send(ctx, new SaslResponse(clientFinal));
        } else if (request instanceof AuthenticationSaslFinal last && scram != null) {
            scram.verifyServerFinal(last.data());
            scramVerified = true;
        } else {
            throw refused("asks for an authentication method pgstitch does not support: " + (request
                    instanceof io.pgstitch.protocol.backend.AuthenticationUnsupported unsupported
                    ? "code " + unsupported.code() : request.getClass().getSimpleName()));
        }
    }

    /**
     * SCRAM with the password, or with the keys of the client's own SCRAM login (pass-through). Over TLS, -PLUS
     * binds the proof to the shard's certificate, as libpq's channel_binding=prefer.
     */
    private ScramSha256Client scramClient(ChannelHandlerContext ctx, AuthenticationSasl sasl) {
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        byte[] binding = tls == null ? null : ChannelBinding.tlsServerEndPoint(tls.engine().getSession(), false);
        if (login.credentials() instanceof ShardCredentials.Scram keys) {
            return ScramSha256Client.withKeys(keys.keys(), sasl.mechanisms(), binding);
        }
        return ScramSha256Client.forMechanisms(password("SCRAM-SHA-256"), sasl.mechanisms(), binding);
    }

    /**
     * {@code require_auth}, as libpq's: the shard may only use an allowed method, checked before anything is
     * sent. By default a shard must ask for a password whenever pgstitch has one, so that nobody impersonating it
     * can log pgstitch in without proving anything.
     */
    private void checkRequired(String method) {
        methodChecked = true;
        RequireAuth required = shard.requireAuth() != null ? shard.requireAuth()
                : login.credentials() instanceof ShardCredentials.None ? null : RequireAuth.SOME_PASSWORD;
        if (required != null && !required.allows(method)) {
            throw refused("authenticated user \"" + login.user() + "\" with method \"" + method
                    + "\", which require_auth " + (shard.requireAuth() != null ? "\"" + required + "\" of shards."
                    + shard.name() + " does not allow" : "does not allow while pgstitch has a password for the user"));
        }
    }

    private String password(String method) {
        if (login.credentials() instanceof ShardCredentials.Password password) {
            return password.password();
        }
        throw cannotAnswer(method);
    }

    /** md5 answers from a plaintext password or from the stored md5 secret itself (md5(password + user)). */
    private String md5Answer(byte[] salt) {
        String secret = login.credentials() instanceof ShardCredentials.Md5Secret md5 ? md5.secret() : password("md5");
        return Md5Password.encode(login.user(), secret, salt); // a stored md5 secret skips the inner hash
    }

    private PgException cannotAnswer(String method) {
        return refused("asks for " + method + " authentication of user \"" + login.user() + "\", and "
                + login.missingCredentials());
    }

    private void ready(ChannelHandlerContext ctx, ReadyForQuery ready) {
        if (keyData == null) {
            keyData = new BackendKeyData(0, new byte[4]); // servers that issue no key cannot be cancelled
        }
        BackendConnection connection = new BackendConnection(ctx.channel(), shard, startup.database(), login.user(),
                keyData, java.util.Collections.unmodifiableMap(parameters), ready.status());
        if (connectionLimit != null && ready.status() == ReadyForQuery.TransactionStatus.IDLE) {
            ctx.pipeline().replace(this, "limit", new ConnectionLimitQuery(connection, promise, connectionLimit));
            return;
        }
        ctx.pipeline().remove(this);
        promise.trySuccess(connection);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        fail(ctx, PgException.fatal(SqlState.CONNECTION_FAILURE,
                "shard \"" + shard.name() + "\" closed the connection during login"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        PgException error = cause instanceof PgException pg ? pg
                : cause.getCause() instanceof PgException pg ? pg
                : PgException.fatal(SqlState.CONNECTION_FAILURE,
                        "connection to shard \"" + shard.name() + "\" failed during login: " + cause.getMessage());
        fail(ctx, error);
    }

    private void fail(ChannelHandlerContext ctx, PgException error) {
        if (promise.tryFailure(error)) {
            ctx.close();
        }
    }

    private PgException refused(String why) {
        return PgException.fatal(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                "pgstitch cannot log in to shard \"" + shard.name() + "\": the server " + why);
    }

    private PgException violation(String why) {
        return PgException.fatal(SqlState.PROTOCOL_VIOLATION, "shard \"" + shard.name() + "\": " + why);
    }

    private static void send(ChannelHandlerContext ctx, FrontendMessage message) {
        ctx.writeAndFlush(message.encode(ctx.alloc()), ctx.voidPromise());
    }
}
