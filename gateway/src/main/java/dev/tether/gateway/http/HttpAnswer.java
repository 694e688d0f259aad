package dev.tether.gateway.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What an {@link HttpEndpoint} answers: a status, a content type, a body and extra headers. Built
 * with the factories; JSON bodies are written with the given mapper.
 */
public record HttpAnswer(HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {

    public HttpAnswer {
        requireNonNull(status, "status");
        requireNonNull(contentType, "contentType");
        requireNonNull(body, "body");
        headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    /** A JSON answer. */
    public static HttpAnswer json(HttpResponseStatus status, ObjectMapper mapper, Object body) {
        try {
            return new HttpAnswer(status, "application/json", mapper.writeValueAsBytes(body), Map.of());
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A plain-text answer with the given content type. */
    public static HttpAnswer text(HttpResponseStatus status, String contentType, String body) {
        return new HttpAnswer(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** This answer with one more header. */
    public HttpAnswer withHeader(String name, String value) {
        Map<String, String> more = new LinkedHashMap<>(headers);
        more.put(name, value);
        return new HttpAnswer(status, contentType, body, more);
    }
}
