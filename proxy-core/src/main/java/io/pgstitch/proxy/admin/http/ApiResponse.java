package io.pgstitch.proxy.admin.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * What an endpoint answers: a status, a content type and a body (JSON, or Prometheus' text format).
 */
record ApiResponse(HttpResponseStatus status, String contentType, byte[] body) {

    static final String JSON = "application/json; charset=utf-8";
}
