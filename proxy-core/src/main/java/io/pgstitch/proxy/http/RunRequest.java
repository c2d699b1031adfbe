package io.pgstitch.proxy.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What to run: a request's SQL text (sent as one Query, split and stitched by the proxy), or one statement with
 * parameters ({@code {"sql": "...", "params": [...]}}; values in text, JSON null as NULL, objects and arrays as
 * their JSON text).
 *
 * @param params null for a plain text
 */
record RunRequest(String sql, List<String> params) {

    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A {@code POST .../run} body: JSON when the content type says so, else the SQL text itself (UTF-8).
     *
     * @throws Refused 400 for a body that is neither
     */
    static RunRequest ofBody(ByteBuf body, boolean json) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(body.nioBuffer()).toString();
        } catch (CharacterCodingException e) {
            throw new Refused(HttpError.badRequest("the request body is not valid UTF-8", null));
        }
        if (!json) {
            return checked(text, null);
        }
        try {
            return ofJson(JSON.readTree(text));
        } catch (JsonProcessingException e) {
            throw new Refused(HttpError.badRequest("the request body is not valid JSON: " + e.getOriginalMessage(),
                    "Send {\"sql\": \"...\", \"params\": [...]}, or the SQL text as text/plain."));
        }
    }

    /** {@code {"sql": "...", "params": [...]}}, the body of a POST or a WebSocket message. */
    static RunRequest ofJson(JsonNode node) {
        JsonNode sql = node == null ? null : node.get("sql");
        if (sql == null || !sql.isTextual()) {
            throw new Refused(HttpError.badRequest("\"sql\" must be a string",
                    "Send {\"sql\": \"...\", \"params\": [...]}."));
        }
        JsonNode params = node.get("params");
        if (params == null || params.isNull()) {
            return checked(sql.asText(), null);
        }
        if (!params.isArray()) {
            throw new Refused(HttpError.badRequest("\"params\" must be an array", null));
        }
        List<String> values = new ArrayList<>(params.size());
        for (JsonNode param : params) {
            values.add(param.isNull() ? null : param.isValueNode() ? param.asText() : param.toString());
        }
        return checked(sql.asText(), values);
    }

    /** A NUL would end the Query string early; PostgreSQL never accepts one in a text. */
    private static RunRequest checked(String sql, List<String> params) {
        boolean nul = sql.indexOf('\0') >= 0
                || params != null && params.stream().anyMatch(param -> param != null && param.indexOf('\0') >= 0);
        if (nul) {
            throw new Refused(HttpError.badRequest("the SQL text or a parameter contains a NUL character", null));
        }
        return new RunRequest(sql, params == null ? null : Collections.unmodifiableList(params));
    }
}
