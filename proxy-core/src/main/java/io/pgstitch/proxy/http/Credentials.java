package io.pgstitch.proxy.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import io.pgstitch.conf.HttpConfig;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;

/**
 * Who an HTTP request says it is, from its {@code Authorization} header: {@code Basic} (RFC 7617, UTF-8) gives a
 * user and the password the session answers the proxy's method with; {@code Bearer} (RFC 6750) a token of
 * {@code http.tokens}, which names its user. A browser's WebSocket cannot set that header, so a WebSocket
 * upgrade without it may carry the token as a subprotocol it offers: {@code bearer.} and the token's UTF-8 bytes
 * in base64url without padding (characters a header token allows), next to {@link #SUBPROTOCOL}, the one the
 * server selects, so that the token is never echoed. Nothing is decided here: the session's login is the
 * proxy's own.
 *
 * @param password null for a bearer token
 */
record Credentials(String user, String password) {

    /** The WebSocket subprotocol the server selects: events as {@link EventJson} describes them. */
    static final String SUBPROTOCOL = "pgstitch";
    /** How an offered subprotocol that carries a bearer token begins. */
    static final String BEARER_SUBPROTOCOL = "bearer.";

    /** Sent with 401: both schemes are accepted. */
    static final String CHALLENGE = "Basic realm=\"pgstitch\", charset=\"UTF-8\", Bearer realm=\"pgstitch\"";

    /** @throws Refused 401 when the header is missing, malformed or carries an unknown token */
    static Credentials of(String header, HttpConfig config) {
        if (header == null || header.isBlank()) {
            throw new Refused(HttpError.authenticationRequired());
        }
        int space = header.indexOf(' ');
        String scheme = space < 0 ? header : header.substring(0, space);
        String value = space < 0 ? "" : header.substring(space + 1).trim();
        return switch (scheme.toLowerCase(Locale.ROOT)) {
            case "basic" -> basic(value);
            case "bearer" -> bearer(value, config);
            default -> throw new Refused(malformed("authorization scheme \"" + scheme + "\" is not supported"));
        };
    }

    /**
     * A WebSocket upgrade's credentials: its {@code Authorization} header, or else a bearer token among the
     * subprotocols it offers ({@code Sec-WebSocket-Protocol}).
     *
     * @throws Refused 401 as {@link #of}; 400 for a token subprotocol offered without {@link #SUBPROTOCOL}
     */
    static Credentials ofWebSocket(String authorization, String subprotocols, HttpConfig config) {
        if ((authorization != null && !authorization.isBlank()) || subprotocols == null) {
            return of(authorization, config);
        }
        String token = null;
        boolean ours = false;
        for (String offered : subprotocols.split(",")) {
            String name = offered.trim();
            ours |= name.equals(SUBPROTOCOL);
            if (name.regionMatches(true, 0, BEARER_SUBPROTOCOL, 0, BEARER_SUBPROTOCOL.length())) {
                token = name.substring(BEARER_SUBPROTOCOL.length());
            }
        }
        if (token == null) {
            return of(authorization, config);
        }
        if (!ours) {
            throw new Refused(HttpError.badRequest("a bearer token subprotocol was offered without \"" + SUBPROTOCOL
                    + "\"", "Offer the subprotocols \"" + SUBPROTOCOL + "\" and \"" + BEARER_SUBPROTOCOL
                    + "\" + base64url(token); the server selects \"" + SUBPROTOCOL + "\"."));
        }
        try {
            return bearer(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8), config);
        } catch (IllegalArgumentException e) {
            throw new Refused(malformed("the subprotocol \"" + BEARER_SUBPROTOCOL
                    + "...\" is not base64url of a token"));
        }
    }

    private static Credentials basic(String value) {
        String decoded;
        try {
            decoded = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Base64.getDecoder().decode(value))).toString();
        } catch (IllegalArgumentException | CharacterCodingException e) {
            throw new Refused(malformed("Basic credentials are not base64 of UTF-8 \"user:password\""));
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) {
            throw new Refused(malformed("Basic credentials have no user name (expected \"user:password\")"));
        }
        return new Credentials(decoded.substring(0, colon), decoded.substring(colon + 1));
    }

    /** Every token is compared, in constant time each: the time taken tells nothing of which one nearly matched. */
    private static Credentials bearer(String token, HttpConfig config) {
        byte[] given = token.getBytes(StandardCharsets.UTF_8);
        String user = null;
        for (Map.Entry<String, String> entry : config.tokens().entrySet()) {
            if (MessageDigest.isEqual(entry.getKey().getBytes(StandardCharsets.UTF_8), given)) {
                user = entry.getValue();
            }
        }
        if (user == null) {
            throw new Refused(HttpError.of(HttpResponseStatus.UNAUTHORIZED, "INVALID_TOKEN", "Invalid token",
                    "the bearer token is not one of http.tokens", "Ask the administrator for a token."));
        }
        return new Credentials(user, null);
    }

    private static HttpError malformed(String message) {
        return HttpError.of(HttpResponseStatus.UNAUTHORIZED, "INVALID_CREDENTIALS", "Invalid credentials", message,
                "Send Authorization: Basic base64(user:password), or Bearer with a token.");
    }

    @Override
    public String toString() {
        return "Credentials[user=" + user + (password == null ? ", bearer" : "") + "]";
    }
}
