package io.pgstitch.proxy.http;

import io.pgstitch.proxy.frontend.ClientOrigin;

/**
 * What an HTTP request's session logs in with.
 *
 * @param user     the PostgreSQL user
 * @param password the HTTP Basic password, answering whatever method the proxy asks for; null with a bearer
 *                 token (its session trusts the user the token names)
 * @param database the database ID of the URL, routed as a PostgreSQL client's
 * @param origin   the HTTP client's address and TLS session
 */
record Login(String user, String password, String database, ClientOrigin origin) {

    boolean bearer() {
        return password == null;
    }

    @Override
    public String toString() {
        return "Login[user=" + user + ", database=" + database + (bearer() ? ", bearer" : "") + "]";
    }
}
