package io.pgstitch.proxy.auth;

import io.pgstitch.conf.BackendIdentity;
import io.pgstitch.conf.Route;
import io.pgstitch.conf.UserSecret;
import io.pgstitch.proxy.backend.ShardCredentials;
import io.pgstitch.proxy.backend.ShardLogin;

/**
 * Who a client reaches its shard as. By default the user it authenticated as, answering the shard with what
 * pgstitch knows of that user: the keys its SCRAM proof revealed (pass-through, when the users file or
 * auth_query holds the shard's own verifier), or the plaintext or md5 secret of the users file or auth_query. A
 * forced user ({@code user}/{@code password} on the shard or the route) is an explicit choice: every client of it
 * reaches the shard as that role.
 */
public final class ShardLogins {

    private ShardLogins() {
    }

    /**
     * @param login the client's finished login; its secret and SCRAM keys answer the shard for the client's user
     */
    public static ShardLogin resolve(Route route, String clientUser, LoginExchange login) {
        if (route.identity() instanceof BackendIdentity.Forced forced) {
            return new ShardLogin(forced.user(), forced.password() == null ? ShardCredentials.NONE
                    : new ShardCredentials.Password(forced.password()), forced.origin() + ".password is not set");
        }
        ShardCredentials credentials = credentials(login);
        if (credentials instanceof ShardCredentials.None && "trust".equals(login.mechanism())
                && login.secret() instanceof UserSecret.Scram) {
            // the verifier answers a SCRAM exchange only with the keys a client's proof reveals
            return new ShardLogin(clientUser, credentials, "its client was trusted (method trust, or a bearer token "
                    + "of SQL over HTTP) and gave no password: pgstitch holds only a SCRAM verifier for that user, "
                    + "which cannot answer the shard without a SCRAM proof from the client (give the user a "
                    + "plaintext password or md5 secret in auth.users_file, or force a shard user for the route)");
        }
        return new ShardLogin(clientUser, credentials, "pgstitch has " + credentials.describe() + " for that user "
                + "(give it the user's SCRAM verifier from pg_authid, or a password, in auth.users_file, or set "
                + "auth.auth_query)");
    }

    private static ShardCredentials credentials(LoginExchange login) {
        ShardCredentials scram = login.scramCredentials();
        if (scram != null) {
            return scram;
        }
        UserSecret secret = login.secret();
        if (secret instanceof UserSecret.Plain plain) {
            return new ShardCredentials.Password(plain.text());
        }
        if (secret instanceof UserSecret.Md5 md5) {
            return new ShardCredentials.Md5Secret(md5.text());
        }
        return ShardCredentials.NONE;
    }
}
