package io.pgstitch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** pgstitch's HTTP admin API through Java's HttpClient, with a bearer token, and the check of its error objects. */
final class AdminApi {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** A response: its status, its body as text and, for JSON, parsed. */
    record Answer(int status, String body, HttpResponse<String> response) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    private final int port;
    private final String token;

    AdminApi(int port, String token) {
        this.port = port;
        this.token = token;
    }

    Answer call(String method, String path, String body) throws Exception {
        return call(method, path, body, token);
    }

    /** {@code token} null: no Authorization header. */
    Answer call(String method, String path, String body, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(response.statusCode(), response.body(), response);
    }

    /** An error object {code, name, message, hint} with {@code status}, a real hint, and no stack trace. */
    static JsonNode assertError(Answer answer, int status, String code) {
        assertThat(answer.status()).as(answer.body()).isEqualTo(status);
        JsonNode error = answer.json();
        assertThat(error.path("code").asText()).as(answer.body()).isEqualTo(code);
        assertThat(error.path("name").asText()).isNotBlank();
        assertThat(error.path("message").asText()).isNotBlank();
        assertThat(error.path("hint").isTextual()).as("a hint: " + answer.body()).isTrue();
        assertThat(error.path("hint").asText()).isNotBlank();
        assertThat(answer.body()).doesNotContain("\tat ").doesNotContain("Exception");
        return error;
    }
}
