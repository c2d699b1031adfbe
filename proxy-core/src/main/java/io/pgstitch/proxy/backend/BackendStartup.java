package io.pgstitch.proxy.backend;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Promise;
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
    private final StartupMessage startup;
    private final Promise<BackendConnection> promise;
    private final Map<String, String> parameters = new LinkedHashMap<>();
    private BackendKeyData keyData;
    private ScramSha256Client scram;
    private boolean scramVerified;

    BackendStartup(ShardConfig shard, StartupMessage startup, Promise<BackendConnection> promise) {
        this.shard = shard;
        this.startup = startup;
        this.promise = promise;
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
        ByteBuf body = frame.body();
        switch (frame.type()) {
            case 'R' -> authenticate(ctx, Authentication.decode(body));
            case 'S' -> {
                ParameterStatus status = ParameterStatus.decode(body);
                parameters.put(status.name(), status.value());
            }
            case 'K' -> keyData = BackendKeyData.decode(body);
            case 'E' -> {
                PgException error = PgException.of(ErrorResponse.decode(body));
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
            if (scram != null && !scramVerified) {
                // a server (or a man in the middle, with -PLUS) that skips SCRAM's last step has not
                // proved it knows the secret
                throw refused("ended SCRAM authentication without proving it knows the password");
            }
            return;
        }
        if (request instanceof AuthenticationCleartextPassword) {
            send(ctx, new PasswordMessage(password("cleartext")));
        } else if (request instanceof AuthenticationMd5Password md5) {
            send(ctx, new PasswordMessage(Md5Password.encode(shard.user(), password("md5"), md5.salt())));
        } else if (request instanceof AuthenticationSasl sasl) {
            // Over TLS, -PLUS binds the proof to the shard's certificate, as libpq's channel_binding=prefer.
            SslHandler tls = ctx.pipeline().get(SslHandler.class);
            scram = ScramSha256Client.forMechanisms(password("SCRAM-SHA-256"), sasl.mechanisms(),
                    tls == null ? null : ChannelBinding.tlsServerEndPoint(tls.engine().getSession(), false));
            if (scram == null) {
                throw refused("offers only SASL mechanisms " + sasl.mechanisms());
            }
            send(ctx, new SaslInitialResponse(scram.mechanism(), scram.clientFirstMessage()));
        } else if (request instanceof AuthenticationSaslContinue next && scram != null) {
            send(ctx, new SaslResponse(scram.clientFinalMessage(next.data())));
        } else if (request instanceof AuthenticationSaslFinal last && scram != null) {
            scram.verifyServerFinal(last.data());
            scramVerified = true;
        } else {
            throw refused("asks for an authentication method pgstitch does not support: " + (request
                    instanceof io.pgstitch.protocol.backend.AuthenticationUnsupported unsupported
                    ? "code " + unsupported.code() : request.getClass().getSimpleName()));
        }
    }

    private String password(String method) {
        if (shard.password() == null) {
            throw refused("asks for " + method + " authentication but shards." + shard.name()
                    + ".password is not set");
        }
        return shard.password();
    }

    private void ready(ChannelHandlerContext ctx, ReadyForQuery ready) {
        if (keyData == null) {
            keyData = new BackendKeyData(0, new byte[4]); // servers that issue no key cannot be cancelled
        }
        ctx.pipeline().remove(this);
        promise.trySuccess(new BackendConnection(ctx.channel(), shard, startup.database(), keyData,
                java.util.Collections.unmodifiableMap(parameters), ready.status()));
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
