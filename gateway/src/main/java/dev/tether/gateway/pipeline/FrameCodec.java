package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.session.EncodedFrame;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ProtocolException;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.util.List;

/**
 * The edge between frames and typed messages (pipeline stage {@link GatewayPipeline#FRAME_CODEC}).
 * Inbound, a text frame becomes a {@code ClientMessage}, or an {@link InboundFailure} with the
 * contract's error code when it cannot be decoded; a binary frame becomes {@code
 * binary_not_supported}. Outbound, a {@link ServerMessage} or an already encoded
 * {@link EncodedFrame} becomes a text frame. Nothing after this handler sees a {@code ByteBuf}.
 *
 * <p>Stateless and sharable; runs on the channel's event loop.
 */
@io.netty.channel.ChannelHandler.Sharable
final class FrameCodec extends MessageToMessageCodec<WebSocketFrame, Object> {

    private final WireCodec codec;

    FrameCodec(WireCodec codec) {
        this.codec = requireNonNull(codec, "codec");
    }

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof ServerMessage || msg instanceof EncodedFrame;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        ByteBuf json = msg instanceof EncodedFrame frame
                ? Unpooled.wrappedBuffer(frame.json())
                : Unpooled.wrappedBuffer(codec.encodeToBytes((ServerMessage) msg));
        out.add(new TextWebSocketFrame(json));
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) {
        if (frame instanceof TextWebSocketFrame text) {
            String json = text.content().toString(java.nio.charset.StandardCharsets.UTF_8);
            try {
                out.add(codec.decodeClient(json));
            } catch (ProtocolException e) {
                out.add(new InboundFailure(e.code(), e.getMessage()));
            }
        } else if (frame instanceof BinaryWebSocketFrame) {
            out.add(new InboundFailure(ErrorCode.BINARY_NOT_SUPPORTED, "binary frames are not supported; send JSON text frames"));
        } else {
            out.add(new InboundFailure(ErrorCode.INVALID_JSON, "unexpected " + frame.getClass().getSimpleName()));
        }
    }

}
