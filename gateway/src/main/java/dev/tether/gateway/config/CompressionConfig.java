package dev.tether.gateway.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;

/**
 * The {@code server.compression} section: permessage-deflate (RFC 7692), negotiated with the
 * clients that offer it (every browser does). Read by the pipeline initializer for each connection
 * it builds, so a reload reaches connections accepted after it. Immutable and thread-safe.
 *
 * <p>The defaults choose memory over ratio: with both no-context-takeover flags on, neither the
 * deflater nor the inflater outlives the message it works on, so an idle compressed connection
 * holds no zlib state at all (docs/configuration.md gives the figures).
 *
 * @param enabled whether the extension is negotiated, {@code server.compression.enabled}; default
 *     {@value #DEFAULT_ENABLED} (off: no {@code Sec-WebSocket-Extensions} in the answer, as before)
 * @param threshold messages smaller than this many bytes are sent uncompressed (no RSV1),
 *     {@code server.compression.threshold}, 0..1MiB; default 256B
 * @param level zlib compression level, {@code server.compression.level}, 1 (fastest) .. 9 (smallest);
 *     default {@value #DEFAULT_LEVEL}
 * @param serverNoContextTakeover the server's deflater is reset after each message and held only
 *     while one is compressed ({@code server_no_context_takeover} in the answer, even when the
 *     client did not ask, as RFC 7692 7.1.1.1 allows), {@code server.compression.server_no_context_takeover};
 *     default {@value #DEFAULT_SERVER_NO_CONTEXT_TAKEOVER}
 * @param clientNoContextTakeover clients are told to reset their deflater after each message
 *     ({@code client_no_context_takeover} in the answer, RFC 7692 7.1.1.2), so the server's
 *     inflater is dropped after each message, {@code server.compression.client_no_context_takeover};
 *     default {@value #DEFAULT_CLIENT_NO_CONTEXT_TAKEOVER}
 * @param clientMaxWindowBits the LZ77 window asked of clients that offer {@code client_max_window_bits},
 *     {@code server.compression.client_max_window_bits}, 9..15; default {@value #DEFAULT_CLIENT_MAX_WINDOW_BITS}
 */
public record CompressionConfig(
        boolean enabled,

        @JsonDeserialize(using = ConfigMapper.IntByteSizeDeserializer.class)
        int threshold,

        int level,
        boolean serverNoContextTakeover,
        boolean clientNoContextTakeover,
        int clientMaxWindowBits) {

    public static final boolean DEFAULT_ENABLED = false;
    public static final int DEFAULT_THRESHOLD = 256;
    public static final int MAX_THRESHOLD = (int) ByteSizes.MIB;
    public static final int DEFAULT_LEVEL = 1;
    public static final int MIN_LEVEL = 1;
    public static final int MAX_LEVEL = 9;
    public static final boolean DEFAULT_SERVER_NO_CONTEXT_TAKEOVER = true;
    public static final boolean DEFAULT_CLIENT_NO_CONTEXT_TAKEOVER = true;
    public static final int DEFAULT_CLIENT_MAX_WINDOW_BITS = 15;
    /** zlib cannot deflate a raw stream with an 8-bit window (it uses 9), so 9 is the smallest asked for. */
    public static final int MIN_WINDOW_BITS = 9;

    public static final int MAX_WINDOW_BITS = 15;

    public CompressionConfig {
        Check.bytesBetween("server.compression.threshold", threshold, 0, MAX_THRESHOLD);
        Check.between("server.compression.level", level, MIN_LEVEL, MAX_LEVEL);
        Check.between(
                "server.compression.client_max_window_bits", clientMaxWindowBits, MIN_WINDOW_BITS, MAX_WINDOW_BITS);
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static CompressionConfig defaults() {
        return new CompressionConfig(
                DEFAULT_ENABLED,
                DEFAULT_THRESHOLD,
                DEFAULT_LEVEL,
                DEFAULT_SERVER_NO_CONTEXT_TAKEOVER,
                DEFAULT_CLIENT_NO_CONTEXT_TAKEOVER,
                DEFAULT_CLIENT_MAX_WINDOW_BITS);
    }
}
