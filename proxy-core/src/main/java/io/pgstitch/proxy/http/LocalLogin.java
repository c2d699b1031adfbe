package io.pgstitch.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Promise;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.ProtocolVersion;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.auth.Md5Password;
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
import io.pgstitch.protocol.frontend.FrontendMessage;
import io.pgstitch.protocol.frontend.PasswordMessage;
import io.pgstitch.protocol.frontend.SaslInitialResponse;
import io.pgstitch.protocol.frontend.SaslResponse;
import io.pgstitch.protocol.frontend.StartupMessage;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The first stage of an HTTP request's session, on the client's end: sends the StartupMessage (protocol 3.0,
 * UTF-8 and ISO dates, so that values convert to JSON alike in every database), answers the method the proxy
 * asks for with the HTTP Basic password (cleartext, md5 or SCRAM-SHA-256, without channel binding: the channel
 * is in-process), collects ParameterStatus and BackendKeyData, and at ReadyForQuery hands over to
 * {@link ResultReader}. A FATAL ErrorResponse (wrong password, unrouted database, full pool...) or a close
 * fails {@code loggedIn} with the proxy's own error.
 */
final class LocalLogin extends ChannelInboundHandlerAdapter {

    static final String APPLICATION_NAME = "pgstitch-http";

    private final Login login;
    private final SqlSession session;
    private final Promise<SqlSession> loggedIn;
    private final Map<String, String> parameters = new LinkedHashMap<>();
    private BackendKeyData key;
    private ScramSha256Client scram;

    LocalLogin(Login login, SqlSession session, Promise<SqlSession> loggedIn) {
        this.login = login;
        this.session = session;
        this.loggedIn = loggedIn;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        Map<String, String> startup = new LinkedHashMap<>();
        startup.put("user", login.user());
        startup.put("database", login.database());
        startup.put("client_encoding", "UTF8");
        startup.put("DateStyle", "ISO");
        startup.put("application_name", APPLICATION_NAME);
        send(ctx, new StartupMessage(ProtocolVersion.V3_0, startup));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame frame = (Frame) msg;
        try {
            switch (frame.type()) {
                case 'R' -> authenticate(ctx, Authentication.decode(frame.body()));
                case 'S' -> {
                    ParameterStatus parameter = ParameterStatus.decode(frame.body());
                    parameters.put(parameter.name(), parameter.value());
                }
                case 'K' -> key = BackendKeyData.decode(frame.body());
                case 'E' -> fail(ctx, PgException.of(ErrorResponse.decode(frame.body())));
                case 'Z' -> ready(ctx);
                case 'N', 'v' -> {
                    // a notice, or NegotiateProtocolVersion (3.0 asks for nothing to negotiate)
                }
                default -> throw PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                        "unexpected message type '" + (char) frame.type() + "' during login");
            }
        } catch (PgException e) {
            fail(ctx, e);
        } finally {
            frame.release();
        }
    }

    private void authenticate(ChannelHandlerContext ctx, Authentication request) {
        if (request instanceof AuthenticationOk) {
            return; // the proxy is in this process: no server signature to insist on
        }
        if (login.bearer()) { // a bearer token's session trusts its user; a password request means it does not
            throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "the proxy asks user \"" + login.user() + "\" for a password; a bearer token cannot answer");
        }
        if (request instanceof AuthenticationCleartextPassword) {
            send(ctx, new PasswordMessage(login.password()));
        } else if (request instanceof AuthenticationMd5Password md5) {
            send(ctx, new PasswordMessage(Md5Password.encode(login.user(), login.password(), md5.salt())));
        } else if (request instanceof AuthenticationSasl sasl) {
            scram = ScramSha256Client.forMechanisms(login.password(), sasl.mechanisms(), null);
            if (scram == null) {
                throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "no SASL mechanism in common: "
                        + sasl.mechanisms());
            }
            send(ctx, new SaslInitialResponse(scram.mechanism(), scram.clientFirstMessage()));
        } else if (request instanceof AuthenticationSaslContinue next && scram != null) {
            send(ctx, new SaslResponse(scram.clientFinalMessage(next.data())));
        } else if (request instanceof AuthenticationSaslFinal last && scram != null) {
            scram.verifyServerFinal(last.data());
        } else {
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "unexpected authentication request "
                    + request.getClass().getSimpleName());
        }
    }

    private void ready(ChannelHandlerContext ctx) {
        if (key == null) {
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "logged in without a BackendKeyData");
        }
        ResultReader reader = new ResultReader(parameters);
        ctx.pipeline().replace(this, ResultReader.NAME, reader);
        session.loggedIn(reader, key, parameters);
        loggedIn.trySuccess(session);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        loggedIn.tryFailure(PgException.fatal(SqlState.CONNECTION_FAILURE, "the session closed during login"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, cause instanceof PgException pg ? pg : cause.getCause() instanceof PgException pg ? pg
                : PgException.fatal(SqlState.INTERNAL_ERROR, "session failed during login: " + cause));
    }

    private void fail(ChannelHandlerContext ctx, PgException error) {
        if (loggedIn.tryFailure(error)) {
            ctx.close();
        }
    }

    private static void send(ChannelHandlerContext ctx, FrontendMessage message) {
        ctx.writeAndFlush(message.encode(ctx.alloc()), ctx.voidPromise());
    }
}
