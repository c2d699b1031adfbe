package io.pgstitch.proxy.frontend;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pgstitch.protocol.Frame;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.BackendMessage;
import io.pgstitch.proxy.auth.LoginExchange;

import javax.net.ssl.SSLSession;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The client proves who it is: the exchange of its {@link LoginExchange} (password, md5 or SASL messages, type
 * 'p'); anything else is FATAL 08P01, except Terminate, which libpq sends when it has no password to give. Once
 * authenticated, hands over to {@link ConnectStage}.
 */
final class AuthenticationStage extends ChannelInboundHandlerAdapter {

    static final String NAME = "authentication";

    private final ClientConnection client;
    private final SSLSession tls;
    private LoginExchange login;

    AuthenticationStage(ClientConnection client, SSLSession tls) {
        this.client = client;
        this.tls = tls;
    }

    /**
     * Picks the method and sends its first request, or goes on at once (trust). A user looked up with auth_query
     * is answered when the lookup completes, back on this client's loop.
     */
    void begin() {
        ClientStartup startup = client.startup();
        CompletableFuture<LoginExchange> starting = client.context().authenticator()
                .begin(startup.databaseId(), startup.user(), client.address(), tls);
        if (starting.isDone()) {
            started(starting.join());
            return;
        }
        starting.whenCompleteAsync((exchange, error) -> {
            if (client.isClosed()) {
                return;
            }
            try {
                if (error != null) {
                    throw error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
                }
                started(exchange);
            } catch (Throwable failure) {
                ClientGuard.fail(client, failure);
            }
        }, client.channel().eventLoop());
    }

    private void started(LoginExchange exchange) {
        login = exchange;
        if (login.authenticated()) {
            authenticated();
        } else {
            client.write(login.request());
            client.channel().flush();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame frame = (Frame) msg;
        byte type = frame.type();
        if (type == 'X') {
            frame.release();
            client.release();
            ctx.close();
            return;
        }
        BackendMessage reply;
        try {
            if (login == null) { // nothing was asked yet (auth_query is still looking the user up)
                throw PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                        "expected no message before the authentication request, got message type " + (char) type);
            }
            if (type != 'p') {
                throw login.unexpected(type);
            }
            reply = login.receive(frame.body());
        } finally {
            frame.release();
        }
        if (reply != null) {
            client.write(reply);
        }
        client.channel().flush();
        if (login.authenticated()) {
            authenticated();
        }
    }

    private void authenticated() {
        ConnectStage next = new ConnectStage(client, login);
        client.channel().pipeline().replace(this, ConnectStage.NAME, next);
        next.begin();
    }
}
