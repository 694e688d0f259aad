package dev.tether.gateway.pipeline;

import dev.tether.gateway.session.ControlFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;

/**
 * Takes the frames that are not messages off the wire's path (pipeline stage {@link
 * GatewayPipeline#CONTROL_FRAMES}, just before {@link GatewayPipeline#WEBSOCKET}), so that every
 * client frame costs the session a token of its frame rate ({@code abuse.messages_per_second}):
 *
 * <ul>
 *   <li>a ping becomes a {@link ControlFrame} for the session, which answers it with a pong only if
 *       the rate allows (Netty's protocol handler would answer every ping for free);
 *   <li>a pong becomes a {@link ControlFrame} too (the heartbeat stages before this one have already
 *       seen it as a sign of life);
 *   <li>a continuation fragment is passed on to be reassembled and also reported as a {@link
 *       ControlFrame}, so an endless stream of empty fragments is as limited as a ping flood;
 *   <li>a close frame with a status code RFC 6455 does not allow to be sent (below 1000, 1004 to
 *       1006, 1015, 5000 and above) is a protocol error: {@link ErrorHandler} answers 1002. Netty's
 *       frame decoder already refuses most of these and a one-byte payload; the rest (notably codes of
 *       5000 and above, which it would echo) are caught here. Valid close frames go on to Netty, which
 *       echoes them once and closes.
 *   <li>a frame with reserved bits set that no negotiated extension cleared (RFC 6455 5.2) is a
 *       protocol error too: with {@code server.compression} on, Netty's frame decoder lets RSV bits
 *       through for every connection, and the permessage-deflate inflater, when negotiated, clears
 *       RSV1 of the messages it inflates before they reach this stage;
 *   <li>a frame larger than {@code server.max_frame_bytes} is refused with 1009 ({@link ErrorHandler}).
 *       Netty's frame decoder refuses those on the wire; this catches a compressed frame whose
 *       inflated size is over the limit by less than Netty's inflater stops at (it bounds each of
 *       its two inflate calls per frame, the frame's bytes and the 4-byte tail RFC 7692 leaves off,
 *       separately), since a whole message in one frame does not pass the frame aggregator's limit.
 * </ul>
 *
 * <p>Stateless and sharable (one per configuration); runs on the channel's event loop. Before the upgrade it sees only HTTP
 * objects and lets them pass.
 */
@ChannelHandler.Sharable
final class ControlFrameHandler extends ChannelInboundHandlerAdapter {

    private final int maxFrameBytes;

    /** @param maxFrameBytes {@code server.max_frame_bytes} */
    ControlFrameHandler(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof WebSocketFrame frame && frame.rsv() != 0) {
            int rsv = frame.rsv();
            frame.release();
            ctx.fireExceptionCaught(new CorruptedWebSocketFrameException(
                    WebSocketCloseStatus.PROTOCOL_ERROR,
                    "reserved bits " + rsv + " set without a negotiated extension for them"));
        } else if (msg instanceof WebSocketFrame frame && frame.content().readableBytes() > maxFrameBytes) {
            int bytes = frame.content().readableBytes();
            frame.release();
            ctx.fireExceptionCaught(new TooLongFrameException("inflated frame of " + bytes + " bytes"));
        } else if (msg instanceof PingWebSocketFrame ping) {
            byte[] payload = ByteBufUtil.getBytes(ping.content());
            ping.release();
            ctx.fireChannelRead(ControlFrame.ping(payload));
        } else if (msg instanceof PongWebSocketFrame pong) {
            pong.release();
            ctx.fireChannelRead(ControlFrame.PONG);
        } else if (msg instanceof ContinuationWebSocketFrame) {
            ctx.fireChannelRead(ControlFrame.CONTINUATION);
            ctx.fireChannelRead(msg);
        } else if (msg instanceof CloseWebSocketFrame close && !sendableCode(close.content())) {
            ByteBuf payload = close.content();
            String what = payload.readableBytes() < 2
                    ? "a close payload of 1 byte"
                    : "close code " + payload.getUnsignedShort(payload.readerIndex());
            close.release();
            ctx.fireExceptionCaught(
                    new CorruptedWebSocketFrameException(WebSocketCloseStatus.PROTOCOL_ERROR, "invalid " + what));
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    /**
     * Whether a close frame's payload is empty or starts with a status code an endpoint may send
     * (RFC 6455 section 7.4: 1000 to 1003, 1007 to 1014, and 3000 to 4999 for libraries and
     * applications). A one-byte payload is never sendable.
     */
    static boolean sendableCode(ByteBuf payload) {
        int length = payload.readableBytes();
        if (length == 0) {
            return true;
        }
        if (length == 1) {
            return false;
        }
        int code = payload.getUnsignedShort(payload.readerIndex());
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }
}
