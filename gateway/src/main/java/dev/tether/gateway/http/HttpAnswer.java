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
 * with the factories; JSON bodies are written with the given mapper. Immutable: the body is taken
 * and handed out without a copy (a static asset's answer is built once and written to every request
 * that asks for it), and nothing changes it. A class, not a record, whose equals would compare the
 * body by identity.
 */
public final class HttpAnswer {

    private final HttpResponseStatus status;
    private final String contentType;
    private final byte[] body;
    private final Map<String, String> headers;

    public HttpAnswer(HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {
        this.status = requireNonNull(status, "status");
        this.contentType = requireNonNull(contentType, "contentType");
        this.body = requireNonNull(body, "body");
        this.headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    public HttpResponseStatus status() {
        return status;
    }

    public String contentType() {
        return contentType;
    }

    /** The body, not a copy: never to be changed. */
    public byte[] body() {
        return body;
    }

    /** Extra headers (unmodifiable). */
    public Map<String, String> headers() {
        return headers;
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
