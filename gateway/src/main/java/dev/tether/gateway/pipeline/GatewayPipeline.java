package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import java.util.List;
import java.util.Set;

/**
 * The names and order of the handlers of a connection's pipeline: reading this class tells how a
 * frame travels. Inbound, top to bottom:
 *
 * <ol>
 *   <li>{@link #CONNECTION_LIMITS}: {@link ConnectionLimitHandler} counts the connection at accept,
 *       before a byte is read: closed at once when its address holds {@code
 *       abuse.max_connections_per_address}; the oldest pending connection is closed when {@code
 *       abuse.max_pending_handshakes} are pending.
 *   <li>{@link #OUTBOUND_GUARD}: {@link OutboundGuard}, first to write, so that it sees what is really queued
 *       for the socket: closes a connection whose client does not read (more than {@code
 *       abuse.max_outbound_bytes} unsent, or unwritable for {@code abuse.outbound_stall_timeout}).
 *   <li>{@link #FLUSH}: Netty's {@code FlushConsolidationHandler}: the flushes of one loop turn become
 *       one, so that the frames a turn makes (an {@code accepted} and its {@code status}, the events
 *       of one read of a worker's output) leave in one {@code writev} instead of one system call each.
 *       A flush made while the connection reads waits for its read to complete; one made outside a
 *       read (worker output) runs as a task after the loop's ready I/O.
 *   <li>{@link #HTTP_CODEC}: bytes to HTTP request parts (only until the upgrade).
 *   <li>{@link #HTTP_AGGREGATOR}: one full upgrade request; a body or header section over the limit is refused.
 *   <li>{@link #HTTP_ROUTES}: {@link HttpRouteHandler} answers the plain HTTP endpoints
 *       ({@code /healthz} and the like) itself; every other request goes on.
 *   <li>{@link #UPGRADE}: {@link UpgradeHandler} refuses addresses over their connection rate
 *       (first, so floods are cheap), routes the request, checks origin, token and admission, and
 *       refuses with a plain HTTP response or lets the upgrade go on; then removes itself. Also
 *       closes connections that never finish their upgrade (or keep-alive HTTP connections after
 *       {@code server.handshake_timeout}).
 *   <li>{@link #COMPRESSION}: only with {@code server.compression.enabled}: Netty's
 *       {@code WebSocketServerExtensionHandler} negotiates permessage-deflate ({@link Compression})
 *       on the request the upgrade forwards, and when the upgrade answer is written puts the
 *       extension's inflater and deflater (named by Netty after their classes) right after itself
 *       and leaves. So inflated frames reach {@link #CONTROL_FRAMES}, the frame limit and the codec,
 *       and frames are deflated after the session wrote them, before {@link #OUTBOUND_GUARD} counts
 *       their bytes. After {@link #UPGRADE}, so a refused request costs no negotiation.
 *   <li>{@link #HEARTBEAT_IDLE} and {@link #HEARTBEAT}: added when the handshake completes, so
 *       present only on WebSocket connections. Netty's {@code IdleStateHandler} measures silence
 *       and {@link HeartbeatHandler} sends a ping when nothing was written or nothing was read for
 *       {@code heartbeat.interval}, and closes the connection when nothing (not even a pong) was
 *       read for {@code heartbeat.timeout}. They sit before {@link #WEBSOCKET} because it drops
 *       pongs; here every frame counts as a sign of life.
 *   <li>{@link #CONTROL_FRAMES}: {@link ControlFrameHandler} turns pings, pongs and continuation
 *       fragments into {@code ControlFrame}s for the session, where each takes a token of the frame
 *       rate (a ping is answered only then), and refuses close frames with a code that may not be
 *       sent (1002).
 *   <li>{@link #WEBSOCKET}: Netty's handshake, the echo of a valid close frame, frame size limit and
 *       RFC 6455 violations (raised as exceptions: {@link #ERRORS} writes the close frame).
 *   <li>{@link #FRAME_AGGREGATOR}: reassembles fragmented messages up to the frame limit (1009 beyond).
 *   <li>{@link #FRAME_CODEC}: {@link FrameCodec} text frames to typed {@code ClientMessage}s, or
 *       {@link InboundFailure}s carrying the error code (also {@code message_too_large}); outbound, server messages to text frames.
 *   <li>{@link #BATCH}: only on a connection opened with {@code ?batch=<ms>} (contract 8.4), added
 *       when the handshake completes: {@link BatchHandler} holds the session's history frames for
 *       up to that delay (and up to {@code server.max_frame_bytes}) and writes them as one {@code
 *       batch} frame; any other write first sends what it holds.
 *   <li>{@link #SESSION}: {@link SessionHandler} creates or resumes the session once the handshake is
 *       complete and hands every frame over to the session's event loop, where
 *       each frame takes a token from the session's message rate limit first.
 *   <li>{@link #ERRORS}: {@link ErrorHandler} turns what is left of exceptions into close codes.
 * </ol>
 *
 * <p>{@link #ORDER} is the one list of stages: every stage is added with {@link #add}, which places
 * it by that list among the stages present, so whoever adds a stage (the initializer at accept,
 * {@link SessionHandler} at the handshake) cannot put it elsewhere. A new stage is a new name in
 * {@link #ORDER} and one call to {@link #add}; one that only some connections have goes in
 * {@link #OPTIONAL} too, and one added or removed at the handshake in {@link #FROM_HANDSHAKE} or
 * {@link #UNTIL_HANDSHAKE}. {@code GatewayPipelineIT} compares a live connection's handlers, before
 * the upgrade and after the handshake, with {@link #beforeUpgrade} and {@link #afterHandshake}.
 */
public final class GatewayPipeline {

    public static final String CONNECTION_LIMITS = "connection-limits";
    public static final String TLS = "tls";
    public static final String OUTBOUND_GUARD = "outbound-guard";
    public static final String FLUSH = "flush";
    public static final String HTTP_CODEC = "http-codec";
    public static final String HTTP_AGGREGATOR = "http-aggregator";
    public static final String HTTP_ROUTES = "http-routes";
    public static final String UPGRADE = "upgrade";
    public static final String COMPRESSION = "compression";
    public static final String HEARTBEAT_IDLE = "heartbeat-idle";
    public static final String HEARTBEAT = "heartbeat";
    public static final String CONTROL_FRAMES = "control-frames";
    public static final String WEBSOCKET = "websocket";
    public static final String FRAME_AGGREGATOR = "frame-aggregator";
    public static final String FRAME_CODEC = "frame-codec";
    public static final String BATCH = "batch";
    public static final String SESSION = "session";
    public static final String ERRORS = "errors";

    /** Every stage in pipeline order, inbound from the socket. */
    public static final List<String> ORDER = List.of(
            CONNECTION_LIMITS,
            TLS,
            OUTBOUND_GUARD,
            FLUSH,
            HTTP_CODEC,
            HTTP_AGGREGATOR,
            HTTP_ROUTES,
            UPGRADE,
            COMPRESSION,
            HEARTBEAT_IDLE,
            HEARTBEAT,
            CONTROL_FRAMES,
            WEBSOCKET,
            FRAME_AGGREGATOR,
            FRAME_CODEC,
            BATCH,
            SESSION,
            ERRORS);

    /**
     * Stages only some connections have: {@link #TLS} only with {@code server.tls.enabled},
     * {@link #COMPRESSION} only with {@code server.compression.enabled}, {@link #BATCH} only on a
     * connection that asked for batched delivery.
     */
    static final Set<String> OPTIONAL = Set.of(TLS, COMPRESSION, BATCH);

    /**
     * Stages that leave at the handshake: Netty's handshaker takes the HTTP codec and aggregator off,
     * {@link SessionHandler} the upgrade stage, and Netty's extension handler itself once it has
     * answered the offer (leaving its encoder and decoder, named by their classes, when compression
     * was negotiated).
     */
    static final Set<String> UNTIL_HANDSHAKE = Set.of(HTTP_CODEC, HTTP_AGGREGATOR, UPGRADE, COMPRESSION);

    /** Stages that {@link SessionHandler} adds at the handshake: only WebSocket connections have them. */
    static final Set<String> FROM_HANDSHAKE = Set.of(HEARTBEAT_IDLE, HEARTBEAT, BATCH);

    /** The subprotocol the gateway speaks and selects in the handshake response. */
    public static final String SUBPROTOCOL = "gateway.v1";

    /** Largest upgrade request body accepted, in bytes (an upgrade has none). */
    static final int MAX_UPGRADE_REQUEST_BYTES = 16 * 1024;

    /** Longest request line (path and query), in bytes. */
    static final int MAX_INITIAL_LINE_BYTES = 4 * 1024;

    /** Largest header section, in bytes: room for an 8 KiB token in {@code Sec-WebSocket-Protocol}. */
    static final int MAX_HEADER_BYTES = 16 * 1024;

    /** Largest HTTP chunk, in bytes. */
    static final int MAX_CHUNK_BYTES = 8 * 1024;

    private GatewayPipeline() {}

    /**
     * Adds {@code handler} as stage {@code name} at its place in {@link #ORDER}: just before the
     * first later stage present, else last. Runs on the channel's event loop (or before the channel
     * is registered).
     *
     * @throws IllegalArgumentException if {@code name} is not in {@link #ORDER}
     */
    static void add(ChannelPipeline pipeline, String name, ChannelHandler handler) {
        requireNonNull(handler, "handler");
        int at = ORDER.indexOf(name);
        if (at < 0) {
            throw new IllegalArgumentException(
                    "stage: " + name + " (expected one of GatewayPipeline.ORDER: " + ORDER + ")");
        }
        for (String later : ORDER.subList(at + 1, ORDER.size())) {
            if (pipeline.context(later) != null) {
                pipeline.addBefore(later, name, handler);
                return;
            }
        }
        pipeline.addLast(name, handler);
    }

    /** The stages of a connection before its upgrade, in order, given the optional ones it has. */
    static List<String> beforeUpgrade(Set<String> optional) {
        return ORDER.stream()
                .filter(name -> !FROM_HANDSHAKE.contains(name))
                .filter(name -> !OPTIONAL.contains(name) || optional.contains(name))
                .toList();
    }

    /** The stages of a WebSocket connection after its handshake, in order, given the optional ones it has. */
    static List<String> afterHandshake(Set<String> optional) {
        return ORDER.stream()
                .filter(name -> !UNTIL_HANDSHAKE.contains(name))
                .filter(name -> !OPTIONAL.contains(name) || optional.contains(name))
                .toList();
    }
}
