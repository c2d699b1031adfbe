package io.pgstitch.proxy.frontend;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.ProtocolVersion;
import io.pgstitch.protocol.SqlState;
import io.pgstitch.protocol.backend.NegotiateProtocolVersion;
import io.pgstitch.protocol.frontend.CancelRequest;
import io.pgstitch.protocol.frontend.GssEncRequest;
import io.pgstitch.protocol.frontend.SslRequest;
import io.pgstitch.protocol.frontend.StartupMessage;
import io.pgstitch.tls.ServerTls;

import javax.net.ssl.SSLPeerUnverifiedException;
import java.security.cert.X509Certificate;

/**
 * The first stage of a client connection. Accepts, as PostgreSQL's ProcessStartupPacket does:
 * <ul>
 *   <li>SSLRequest, once: 'S' and a TLS handshake when TLS is offered, 'N' otherwise;</li>
 *   <li>GSSENCRequest, once: 'N' (GSS encryption is not offered);</li>
 *   <li>CancelRequest: forwarded to whatever runs for the key; the connection closes once the shard took it;</li>
 *   <li>StartupMessage: checked ({@link ClientStartup}), and the stage hands over to {@link AuthenticationStage}.</li>
 * </ul>
 * A direct TLS handshake ({@link DirectTlsDetector}) must have negotiated ALPN "postgresql".
 */
final class StartupStage extends ChannelInboundHandlerAdapter {

    private final ClientConnection client;
    private boolean sslAnswered;
    private boolean gssAnswered;

    StartupStage(ClientConnection client) {
        this.client = client;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        client.startLoginTimer();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof SslRequest) {
            startTls(ctx);
        } else if (msg instanceof GssEncRequest) {
            refuseGssEncryption(ctx);
        } else if (msg instanceof CancelRequest cancel) {
            // closed once the cancel is delivered, as PostgreSQL does: a client that waits for the close (libpq's
            // PQcancel, SQL over HTTP) knows its next query cannot be the one cancelled
            client.release();
            client.context().cancels().find(cancel.processId(), cancel.secretKey()).ifPresentOrElse(
                    target -> target.cancel(ctx::close), ctx::close);
        } else if (msg instanceof StartupMessage startup) {
            startup(ctx, startup);
        } else {
            ReferenceCountUtil.release(msg);
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "expected a startup packet");
        }
    }

    /** PostgreSQL takes each negotiation once; a repeated one reads as an unknown protocol version. */
    private static PgException repeated(int code) {
        return PgException.fatal(SqlState.FEATURE_NOT_SUPPORTED, String.format(
                "unsupported frontend protocol %d.%d: server supports 3.0 to 3.%d", ProtocolVersion.major(code),
                ProtocolVersion.minor(code), ClientStartup.NEWEST_MINOR_VERSION));
    }

    private void refuseGssEncryption(ChannelHandlerContext ctx) {
        if (gssAnswered) {
            throw repeated(ProtocolVersion.GSSENC_REQUEST_CODE);
        }
        gssAnswered = true;
        // As PostgreSQL: bytes sent behind the request, before its answer, were never meant to be read.
        if (client.decoder().hasBufferedInput()) {
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                    "received unencrypted data after GSSAPI encryption request");
        }
        // 'N' tells libpq to go on, with an SSLRequest or in plaintext.
        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'), ctx.voidPromise());
    }

    /**
     * Bytes the client sent behind its SSLRequest, before our answer, would be plaintext smuggled past the
     * handshake (CVE-2021-23214): they end the connection unread.
     */
    private void startTls(ChannelHandlerContext ctx) {
        if (client.tls()) {
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "SSLRequest received on an encrypted connection");
        }
        if (sslAnswered) {
            throw repeated(ProtocolVersion.SSL_REQUEST_CODE);
        }
        sslAnswered = true;
        if (client.decoder().hasBufferedInput()) { // checked whatever the answer, as PostgreSQL does
            throw PgException.fatal(SqlState.PROTOCOL_VIOLATION, "received unencrypted data after SSL request");
        }
        ClientTls tls = client.context().tls();
        if (!tls.offered()) {
            ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('N'), ctx.voidPromise());
            return;
        }
        // startTls: the handler lets the first write, our 'S', through in plaintext
        ctx.pipeline().addFirst(DirectTlsDetector.TLS_HANDLER,
                new SslHandler(tls.contexts().get().newEngine(ctx.alloc()), true));
        client.tlsStarted();
        ctx.writeAndFlush(ctx.alloc().buffer(1).writeByte('S'), ctx.voidPromise());
    }

    /**
     * A TLS handshake that completes without our SSLRequest answer was direct TLS: as PostgreSQL 17, pgstitch
     * then requires ALPN "postgresql", so that a TLS connection meant for another protocol cannot be replayed.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof SslHandshakeCompletionEvent handshake && handshake.isSuccess() && !client.tls()) {
            client.tlsStarted();
            String protocol = ctx.pipeline().get(SslHandler.class).applicationProtocol();
            if (!ServerTls.ALPN_POSTGRESQL.equals(protocol)) {
                client.protocolViolated();
                client.fatal(PgException.fatal(SqlState.PROTOCOL_VIOLATION,
                        "received direct SSL connection request without ALPN protocol negotiation extension"));
            }
        }
        super.userEventTriggered(ctx, event);
    }

    private void startup(ChannelHandlerContext ctx, StartupMessage message) {
        if (client.context().tls().required() && !client.tls()) {
            throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "pgstitch accepts only encrypted connections (listen.tls.mode: require)")
                    .withHint("Connect with sslmode=require or stronger.");
        }
        ClientStartup startup = ClientStartup.of(message);
        client.started(startup);
        if (startup.negotiate()) {
            client.write(new NegotiateProtocolVersion(startup.minorVersion(), startup.unrecognizedOptions()));
        }
        SslHandler tls = ctx.pipeline().get(SslHandler.class);
        if (client.context().tls().certificateNamesUser()) {
            checkCertificateName(tls, startup.user());
        }
        AuthenticationStage next = new AuthenticationStage(client,
                tls == null ? ClientOrigin.tlsOf(ctx.channel()) : tls.engine().getSession());
        ctx.pipeline().replace(this, AuthenticationStage.NAME, next);
        next.begin();
    }

    /**
     * {@code listen.tls.client_cert: verify-full}: the certificate the handshake verified must name the user, as
     * pg_hba's clientcert=verify-full.
     */
    private static void checkCertificateName(SslHandler tls, String user) {
        X509Certificate certificate = null;
        try {
            if (tls != null && tls.engine().getSession().getPeerCertificates()[0] instanceof X509Certificate peer) {
                certificate = peer;
            }
        } catch (SSLPeerUnverifiedException e) {
            // no certificate: refused below
        }
        if (certificate == null || !ServerTls.clientCertificateMatchesUser(certificate, user)) {
            throw PgException.fatal(SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                    "certificate authentication failed for user \"" + user + "\"")
                    .withDetail("listen.tls.client_cert is verify-full: the client certificate's common name "
                            + "must be the user name.");
        }
    }
}
