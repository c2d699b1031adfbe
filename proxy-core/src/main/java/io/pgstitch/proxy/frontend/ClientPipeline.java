package io.pgstitch.proxy.frontend;

import io.netty.channel.Channel;
import io.pgstitch.protocol.FrontendFrameDecoder;

/**
 * The handlers of a new client connection: the scope of its log lines ({@link SessionLogScope}), direct-TLS detection (when TLS is offered), the frame decoder, the
 * first stage ({@link StartupStage}, which hands over to the next ones as the client logs in), and the
 * {@link ClientGuard} that ends every failure with an ErrorResponse.
 */
public final class ClientPipeline {

    private ClientPipeline() {
    }

    public static void install(Channel channel, SessionContext context) {
        FrontendFrameDecoder decoder = new FrontendFrameDecoder();
        ClientConnection client = new ClientConnection(channel, context, decoder);
        channel.pipeline().addLast("session-log", new SessionLogScope(client));
        if (context.tls().offered()) {
            channel.pipeline().addLast("direct-tls", new DirectTlsDetector(context.tls().contexts()));
        }
        channel.pipeline().addLast("frames", decoder);
        channel.pipeline().addLast("startup", new StartupStage(client));
        channel.pipeline().addLast("guard", new ClientGuard(client));
    }
}
