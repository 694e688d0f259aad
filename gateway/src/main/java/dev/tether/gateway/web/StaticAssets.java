package dev.tether.gateway.web;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.http.HttpAnswer;
import dev.tether.gateway.http.HttpEndpoint;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * Files of the web bundle ({@code /web/} on the class path), each read once into memory and served
 * with {@code Cache-Control: no-cache} and a strong {@code ETag}: a browser revalidates on every load
 * and gets {@code 304 Not Modified} while the file is unchanged, so a new gateway version is never
 * hidden behind a stale cache.
 *
 * <p>Built at start-up on the main thread (class path reads); afterwards immutable, and its
 * endpoints answer from memory on the connection's event loop.
 */
final class StaticAssets {

    static final String JAVASCRIPT = "text/javascript; charset=utf-8";
    static final String HTML = "text/html; charset=utf-8";
    static final String CSS = "text/css; charset=utf-8";
    static final String JSON = "application/json";

    /** Where the bundle lives on the class path. */
    static final String ROOT = "/web/";

    private StaticAssets() {}

    /**
     * The endpoint serving class path file {@code ROOT + name} with {@code contentType} and {@code
     * extraHeaders}; reads the file now.
     *
     * @throws IllegalStateException if the file is not on the class path (a broken build)
     */
    static HttpEndpoint file(String name, String contentType, Map<String, String> extraHeaders) {
        requireNonNull(name, "name");
        requireNonNull(contentType, "contentType");
        requireNonNull(extraHeaders, "extraHeaders");
        byte[] body = read(name);
        String etag = etag(body);
        HttpAnswer ok = new HttpAnswer(HttpResponseStatus.OK, contentType, body, extraHeaders)
                .withHeader("Cache-Control", "no-cache")
                .withHeader("ETag", etag)
                .withHeader("X-Content-Type-Options", "nosniff");
        HttpAnswer notModified = new HttpAnswer(HttpResponseStatus.NOT_MODIFIED, contentType, new byte[0], Map.of())
                .withHeader("Cache-Control", "no-cache")
                .withHeader("ETag", etag);
        return request -> matches(request, etag) ? notModified : ok;
    }

    /** The bytes of class path file {@code ROOT + name}. */
    static byte[] read(String name) {
        try (InputStream in = StaticAssets.class.getResourceAsStream(ROOT + name)) {
            if (in == null) {
                throw new IllegalStateException("web asset missing from the class path: " + ROOT + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read web asset " + ROOT + name, e);
        }
    }

    /** A strong entity tag from the content: the first 128 bits of its SHA-256, quoted. */
    static String etag(byte[] body) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body);
            return "\"" + HexFormat.of().formatHex(digest, 0, 16) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always available", e);
        }
    }

    /** Whether the request's {@code If-None-Match} names {@code etag} (or is {@code *}). */
    static boolean matches(FullHttpRequest request, String etag) {
        String header = request.headers().get(HttpHeaderNames.IF_NONE_MATCH);
        if (header == null) {
            return false;
        }
        for (String candidate : header.split(",", -1)) {
            String tag = candidate.strip();
            if (tag.startsWith("W/")) {
                tag = tag.substring(2); // If-None-Match compares weakly (RFC 9110, 13.1.2)
            }
            if (tag.equals("*") || tag.equals(etag)) {
                return true;
            }
        }
        return false;
    }
}
