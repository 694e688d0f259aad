package dev.tether.gateway.pipeline;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.gateway.config.AbuseConfig;
import dev.tether.gateway.metrics.GatewayMetrics;
import dev.tether.gateway.session.EncodedFrame;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ProtocolException;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The edge between frames and typed messages (pipeline stage {@link GatewayPipeline#FRAME_CODEC}).
 * Inbound, a text frame becomes a {@code ClientMessage}, or an {@link InboundFailure} with the
 * contract's error code when it cannot be decoded; a binary frame becomes {@code
 * binary_not_supported}. Outbound, a {@link ServerMessage} or an already encoded
 * {@link EncodedFrame} becomes a text frame, and an {@link EncodedBatch} one {@code batch} frame. Nothing after this handler sees a {@code ByteBuf}.
 *
 * <p>It also enforces {@code abuse.max_message_bytes}: a {@code message} whose {@code data}, written
 * as compact UTF-8 JSON (the form the worker gets), is larger becomes an {@link InboundFailure}
 * {@code message_too_large} carrying the message's id, so it is never forwarded nor remembered. The
 * data is measured only when the whole frame is larger than the limit, since the data the client
 * wrote is part of the frame: ordinary messages cost one comparison.
 *
 * <p>Stateless and sharable; runs on the channel's event loop.
 */
@ChannelHandler.Sharable
final class FrameCodec extends MessageToMessageCodec<WebSocketFrame, Object> {

    private static final byte[] BATCH_START = WireCodec.BATCH_START.getBytes(StandardCharsets.UTF_8);
    private static final byte[] BATCH_SEPARATOR = WireCodec.BATCH_SEPARATOR.getBytes(StandardCharsets.UTF_8);
    private static final byte[] BATCH_END = WireCodec.BATCH_END.getBytes(StandardCharsets.UTF_8);

    private final WireCodec codec;
    private final int maxMessageBytes;
    private final GatewayMetrics metrics;

    /** A codec with the default {@code abuse.max_message_bytes}. */
    FrameCodec(WireCodec codec) {
        this(codec, AbuseConfig.DEFAULT_MAX_MESSAGE_BYTES);
    }

    FrameCodec(WireCodec codec, int maxMessageBytes) {
        this(codec, maxMessageBytes, GatewayMetrics.NONE);
    }

    /** @param metrics counts messages in and out and refused frames, here at the edge */
    FrameCodec(WireCodec codec, int maxMessageBytes, GatewayMetrics metrics) {
        this.metrics = requireNonNull(metrics, "metrics");
        this.codec = requireNonNull(codec, "codec");
        if (maxMessageBytes < 1) {
            throw new IllegalArgumentException("maxMessageBytes must be >= 1: " + maxMessageBytes);
        }
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    public boolean acceptOutboundMessage(Object msg) {
        return msg instanceof ServerMessage || msg instanceof EncodedFrame || msg instanceof EncodedBatch;
    }

    @Override
    protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) {
        if (msg instanceof EncodedBatch batch) {
            out.add(new TextWebSocketFrame(batchFrame(batch.messages())));
            metrics.batchOut();
            for (int i = 0; i < batch.messages().size(); i++) {
                metrics.messageOut();
            }
            return;
        }
        ByteBuf json = msg instanceof EncodedFrame frame
                ? Unpooled.wrappedBuffer(frame.json())
                : Unpooled.wrappedBuffer(codec.encodeToBytes((ServerMessage) msg));
        out.add(new TextWebSocketFrame(json));
        metrics.messageOut();
    }

    /**
     * A {@code batch} frame of {@code messages}, each already encoded: the arrays are wrapped, not
     * copied, between {@link WireCodec#BATCH_START}, the separators and {@link WireCodec#BATCH_END}.
     */
    private static ByteBuf batchFrame(List<byte[]> messages) {
        byte[][] parts = new byte[2 * messages.size() + 1][];
        parts[0] = BATCH_START;
        for (int i = 0; i < messages.size(); i++) {
            parts[2 * i + 1] = messages.get(i);
            parts[2 * i + 2] = i == messages.size() - 1 ? BATCH_END : BATCH_SEPARATOR;
        }
        return Unpooled.wrappedBuffer(parts);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, WebSocketFrame frame, List<Object> out) {
        decodeFrame(frame, out);
        Object decoded = out.get(out.size() - 1);
        if (decoded instanceof InboundFailure failure) {
            metrics.frameRejected(failure.code());
        } else {
            metrics.messageIn();
        }
    }

    private void decodeFrame(WebSocketFrame frame, List<Object> out) {
        if (frame instanceof TextWebSocketFrame text) {
            int frameBytes = text.content().readableBytes();
            String json = text.content().toString(StandardCharsets.UTF_8);
            try {
                ClientMessage message = codec.decodeClient(json);
                long dataBytes;
                if (frameBytes > maxMessageBytes
                        && message instanceof ClientMessage.Message m
                        && (dataBytes = jsonBytes(m.data())) > maxMessageBytes) {
                    out.add(new InboundFailure(
                            ErrorCode.MESSAGE_TOO_LARGE,
                            "message data is " + dataBytes + " bytes; the limit is " + maxMessageBytes,
                            m.id()));
                } else {
                    out.add(message);
                }
            } catch (ProtocolException e) {
                out.add(new InboundFailure(e.code(), e.getMessage()));
            }
        } else if (frame instanceof BinaryWebSocketFrame) {
            out.add(new InboundFailure(
                    ErrorCode.BINARY_NOT_SUPPORTED, "binary frames are not supported; send JSON text frames"));
        } else {
            out.add(new InboundFailure(
                    ErrorCode.INVALID_JSON, "unexpected " + frame.getClass().getSimpleName()));
        }
    }

    /** The length of {@code data} as compact UTF-8 JSON, counted without keeping the bytes. */
    private long jsonBytes(JsonNode data) {
        CountingStream counter = new CountingStream();
        try {
            codec.mapper().writeValue(counter, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return counter.count;
    }

    private static final class CountingStream extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }
}
