package io.pgstitch.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.pgstitch.protocol.PgException;
import io.pgstitch.protocol.SqlState;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class HttpErrorTest {

    private static HttpError login(String sqlState) {
        return HttpError.ofLogin(PgException.fatal(sqlState, "m"), new Login("u", "pw", "db", null));
    }

    @Test
    void loginFailuresGetFittingStatuses() {
        assertThat(login(SqlState.INVALID_PASSWORD).status()).isEqualTo(HttpResponseStatus.UNAUTHORIZED);
        assertThat(login(SqlState.INVALID_AUTHORIZATION_SPECIFICATION).status())
                .isEqualTo(HttpResponseStatus.FORBIDDEN);
        assertThat(login(SqlState.INVALID_CATALOG_NAME).code()).isEqualTo("UNKNOWN_DATABASE");
        assertThat(login(SqlState.INVALID_CATALOG_NAME).status()).isEqualTo(HttpResponseStatus.NOT_FOUND);
        assertThat(login(SqlState.NAME_TOO_LONG).status()).isEqualTo(HttpResponseStatus.BAD_REQUEST);
        assertThat(login(SqlState.TOO_MANY_CONNECTIONS).status()).isEqualTo(HttpResponseStatus.SERVICE_UNAVAILABLE);
        assertThat(login(SqlState.CONNECTION_FAILURE).code()).isEqualTo("SHARD_UNAVAILABLE");
        assertThat(login(SqlState.CONNECTION_FAILURE).status()).isEqualTo(HttpResponseStatus.BAD_GATEWAY);
        assertThat(login(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION).code()).isEqualTo("SHARD_LOGIN_FAILED");
        assertThat(login(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION).hint()).isNull();
        assertThat(login(SqlState.INTERNAL_ERROR).status()).isEqualTo(HttpResponseStatus.INTERNAL_SERVER_ERROR);
    }

    @Test
    void everyLoginRefusalHasAHint() {
        for (String state : List.of(SqlState.INVALID_PASSWORD, SqlState.INVALID_AUTHORIZATION_SPECIFICATION,
                SqlState.INVALID_CATALOG_NAME, SqlState.NAME_TOO_LONG, SqlState.TOO_MANY_CONNECTIONS,
                SqlState.QUERY_CANCELED, SqlState.CONNECTION_FAILURE, SqlState.INTERNAL_ERROR)) {
            assertThat(login(state).hint()).as(state).isNotBlank();
        }
    }

    @Test
    void bodyIsAnErrorObject() {
        HttpError error = HttpError.ofLogin(PgException.fatal(SqlState.INVALID_CATALOG_NAME,
                "database \"x\" is not routed by pgstitch").withHint("Add a route."), new Login("u", "pw", "x", null));
        ByteBuf body = error.body();
        assertThat(body.toString(StandardCharsets.UTF_8)).isEqualTo("{\"error\":{\"code\":\"UNKNOWN_DATABASE\","
                + "\"name\":\"Unknown database\",\"message\":\"database \\\"x\\\" is not routed by pgstitch\","
                + "\"hint\":\"Add a route.\",\"sqlstate\":\"3D000\"}}");
        body.release();
    }

    @Test
    void aBearerSessionThatCannotLogInToItsShardIsToldWhy() {
        HttpError error = HttpError.ofLogin(PgException.fatal(SqlState.SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
                "m"), new Login("alice", null, "db", null));
        assertThat(error.status()).isEqualTo(HttpResponseStatus.BAD_GATEWAY);
        assertThat(error.hint()).contains("bearer token's login carries no password")
                .contains("plaintext password or md5 secret").contains("forces");
        assertThat(HttpError.ofLogin(new java.io.IOException("gone"), new Login("alice", null, "db", null)).code())
                .isEqualTo("SHARD_UNAVAILABLE");
    }
}
