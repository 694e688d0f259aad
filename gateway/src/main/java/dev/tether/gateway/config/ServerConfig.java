package dev.tether.gateway.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code server} section: where the WebSocket endpoint listens and what a handshake must
 * satisfy. Read by the bootstrap (host, port, threads, transport), the pipeline initializer (path,
 * frame size, handshake timeout) and the handshake handler ({@link #originAllowed(String)}).
 * Immutable and thread-safe.
 *
 * @param host address to bind, {@code server.host}; default {@value #DEFAULT_HOST} (loopback: this
 *     machine only, so that a gateway started as it comes is never open to the network; a deployment
 *     sets {@code 0.0.0.0} or an interface's address)
 * @param port TCP port, {@code server.port}, 0..65535 where 0 picks an ephemeral port;
 *     default {@value #DEFAULT_PORT}; overridden by {@code TETHER_PORT}
 * @param path HTTP path of the WebSocket endpoint, {@code server.path}, starts with {@code /}, in
 *     the one spelling upgrades must use (no percent-escapes, query or fragment); default
 *     {@value #DEFAULT_PATH}
 * @param maxFrameBytes largest accepted WebSocket frame, {@code server.max_frame_bytes}, 1KiB..64MiB;
 *     default 1MiB
 * @param allowedOrigins {@code server.allowed_origins}: {@code ["*"]} for any origin, otherwise exact
 *     origins such as {@code https://app.example.com}; default {@code ["*"]}
 * @param handshakeTimeout time allowed from TCP accept to a completed upgrade,
 *     {@code server.handshake_timeout}, > 0; default 10s
 * @param ioThreads event loop threads, {@code server.io_threads}, 0..1024 where 0 lets Netty choose;
 *     default 0
 * @param preferEpoll use the native epoll transport when available, {@code server.prefer_epoll};
 *     default true
 * @param nodeId this gateway's name among the gateways behind one proxy, {@code server.node_id}:
 *     1..32 characters of {@code [a-z0-9-]}, put in front of every session id it creates
 *     ({@code <node_id>.<random>}) so that the proxy can route a resume to this node; default null,
 *     no prefix
 * @param tls {@code server.tls}: TLS on this listener ({@code wss://}); default off (see {@link TlsConfig})
 * @param compression permessage-deflate, {@code server.compression} ({@link CompressionConfig})
 * @param maxBatchDelay the longest delay a client may ask for with {@code ?batch=<ms>} (contract 8.4),
 *     {@code server.max_batch_delay}, 0..1s; a longer request is cut to it; 0 turns batched delivery
 *     off (the parameter is still checked, then ignored: one message per frame); default 1s
 */
public record ServerConfig(
        String host,
        int port,
        String path,

        @JsonDeserialize(using = ConfigMapper.IntByteSizeDeserializer.class)
        int maxFrameBytes,

        List<String> allowedOrigins,
        Duration handshakeTimeout,
        int ioThreads,
        boolean preferEpoll,
        String nodeId,
        TlsConfig tls,
        CompressionConfig compression,
        Duration maxBatchDelay) {

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final int MIN_PORT = 0;
    public static final int MAX_PORT = 65535;
    public static final String DEFAULT_PATH = "/ws";
    public static final int DEFAULT_MAX_FRAME_BYTES = (int) ByteSizes.MIB;
    public static final int MIN_MAX_FRAME_BYTES = (int) ByteSizes.KIB;
    public static final int MAX_MAX_FRAME_BYTES = (int) (64 * ByteSizes.MIB);
    /** The only entry of {@code allowed_origins} that allows every origin. */
    public static final String ANY_ORIGIN = "*";

    public static final List<String> DEFAULT_ALLOWED_ORIGINS = List.of(ANY_ORIGIN);
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
    public static final int DEFAULT_IO_THREADS = 0;
    public static final int MAX_IO_THREADS = 1024;
    public static final boolean DEFAULT_PREFER_EPOLL = true;
    /** No node id: session ids carry no prefix. */
    public static final String DEFAULT_NODE_ID = null;

    /** Batched delivery up to the contract's longest delay, 1000 ms. */
    public static final Duration DEFAULT_MAX_BATCH_DELAY = Duration.ofSeconds(1);
    /** The contract's bound for {@code ?batch=<ms>}; the operator's cap cannot exceed it. */
    public static final Duration MAX_MAX_BATCH_DELAY = Duration.ofSeconds(1);

    public static final int MAX_NODE_ID_LENGTH = 32;
    private static final Pattern NODE_ID = Pattern.compile("[a-z0-9-]{1," + MAX_NODE_ID_LENGTH + "}");

    /**
     * A path in the one spelling requests must use: segments of RFC 3986 path characters without
     * percent-escapes, no empty, {@code .} or {@code ..} segment. Upgrades are matched against it
     * byte for byte, so it must not have another spelling a client could mean.
     */
    private static final Pattern PATH = Pattern.compile("/|(/(?!\\.{1,2}(/|$))[A-Za-z0-9._~!$&'()*+,;=:@-]+)+");

    private static final String PATH_EXPECTED = "a path starting with /, of letters, digits and -._~!$&'()*+,;=:@"
            + " (no %-escapes, ?, #, empty, . or .. segments)";

    private static final String ORIGIN_EXPECTED =
            "an origin like https://app.example.com or http://localhost:3000 (scheme://host[:port], no path)";

    public ServerConfig {
        Check.notBlank("server.host", host, "a host name or IP address to bind");
        Check.between("server.port", port, MIN_PORT, MAX_PORT);
        if (path == null || !PATH.matcher(path).matches()) {
            throw new ConfigException("server.path", path, PATH_EXPECTED);
        }
        Check.bytesBetween("server.max_frame_bytes", maxFrameBytes, MIN_MAX_FRAME_BYTES, MAX_MAX_FRAME_BYTES);
        allowedOrigins = checkOrigins(allowedOrigins);
        Check.positive("server.handshake_timeout", handshakeTimeout);
        Check.between("server.io_threads", ioThreads, 0, MAX_IO_THREADS);
        if (nodeId != null && !NODE_ID.matcher(nodeId).matches()) {
            throw new ConfigException("server.node_id", nodeId, "null or 1..32 characters of a-z, 0-9 and -");
        }
        Check.notNull("server.tls", tls, "a mapping");
        Check.notNull("server.compression", compression, "a mapping");
        Check.between("server.max_batch_delay", maxBatchDelay, Duration.ZERO, MAX_MAX_BATCH_DELAY);
    }

    /**
     * As before {@code server.tls}, {@code server.compression} and {@code server.max_batch_delay}
     * existed: TLS and compression off, batching up to the default delay.
     */
    public ServerConfig(
            String host,
            int port,
            String path,
            int maxFrameBytes,
            List<String> allowedOrigins,
            Duration handshakeTimeout,
            int ioThreads,
            boolean preferEpoll,
            String nodeId) {
        this(
                host,
                port,
                path,
                maxFrameBytes,
                allowedOrigins,
                handshakeTimeout,
                ioThreads,
                preferEpoll,
                nodeId,
                TlsConfig.defaults(),
                CompressionConfig.defaults(),
                DEFAULT_MAX_BATCH_DELAY);
    }

    /** The built-in defaults, as written in {@code config/gateway.yaml}. */
    public static ServerConfig defaults() {
        return new ServerConfig(
                DEFAULT_HOST,
                DEFAULT_PORT,
                DEFAULT_PATH,
                DEFAULT_MAX_FRAME_BYTES,
                DEFAULT_ALLOWED_ORIGINS,
                DEFAULT_HANDSHAKE_TIMEOUT,
                DEFAULT_IO_THREADS,
                DEFAULT_PREFER_EPOLL,
                DEFAULT_NODE_ID,
                TlsConfig.defaults(),
                CompressionConfig.defaults(),
                DEFAULT_MAX_BATCH_DELAY);
    }

    /**
     * Whether {@link #host} is a loopback address ({@code 127.0.0.0/8}, {@code ::1} or
     * {@code localhost}): only this machine can connect. A host name other than {@code localhost}
     * counts as not loopback (no name is resolved here).
     */
    public boolean bindsLoopback() {
        return isLoopback(host);
    }

    /** Whether {@code host}, an IP literal or {@code localhost}, names a loopback address. */
    public static boolean isLoopback(String host) {
        String literal = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (literal.equalsIgnoreCase("localhost")) {
            return true;
        }
        byte[] address = NetUtil.createByteArrayFromIpAddressString(literal);
        if (address == null) {
            return false;
        }
        try {
            return InetAddress.getByAddress(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Whether {@code allowed_origins} is {@code ["*"]}. */
    public boolean allowsAnyOrigin() {
        return allowedOrigins.equals(DEFAULT_ALLOWED_ORIGINS);
    }

    /**
     * Whether a handshake carrying this {@code Origin} header may upgrade. With {@code ["*"]} every
     * origin is allowed; otherwise the origin must equal a listed one, ignoring ASCII case (scheme
     * and host are case-insensitive). A missing or empty header is allowed: browsers always send
     * {@code Origin} on WebSocket handshakes, and the check exists to stop other sites' pages, not
     * non-browser clients, which could send any header they like.
     */
    public boolean originAllowed(String origin) {
        if (allowsAnyOrigin() || origin == null || origin.isEmpty()) {
            return true;
        }
        for (String allowed : allowedOrigins) {
            if (allowed.equalsIgnoreCase(origin)) {
                return true;
            }
        }
        return false;
    }

    private static List<String> checkOrigins(List<String> origins) {
        String key = "server.allowed_origins";
        if (origins == null || origins.isEmpty()) {
            throw new ConfigException(key, origins, "[\"*\"] or a non-empty list of origins");
        }
        if (origins.contains(ANY_ORIGIN)) {
            if (origins.size() != 1) {
                throw new ConfigException(key, origins, "either [\"*\"] alone or a list of exact origins");
            }
            return DEFAULT_ALLOWED_ORIGINS;
        }
        List<String> checked = new ArrayList<>(origins.size());
        for (int i = 0; i < origins.size(); i++) {
            String origin = origins.get(i);
            if (!isOrigin(origin)) {
                throw new ConfigException(key + "[" + i + "]", origin, ORIGIN_EXPECTED);
            }
            checked.add(origin);
        }
        return List.copyOf(checked);
    }

    private static boolean isOrigin(String origin) {
        if (origin == null) {
            return false;
        }
        try {
            URI uri = new URI(origin);
            return uri.getScheme() != null
                    && uri.getHost() != null
                    && uri.getRawUserInfo() == null
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty())
                    && uri.getRawQuery() == null
                    && uri.getRawFragment() == null;
        } catch (URISyntaxException e) {
            return false;
        }
    }
}
