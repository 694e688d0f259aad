package dev.tether.loadtest.baseline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.gateway.async.Unwatched;
import dev.tether.protocol.ClientMessage;
import dev.tether.protocol.EchoText;
import dev.tether.protocol.ErrorCode;
import dev.tether.protocol.ProtocolException;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.SessionState;
import dev.tether.protocol.WireCodec;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.util.UUID;

/**
 * Answers one baseline connection: {@code session_ready} once the upgrade completes; for each
 * {@code message} an {@code accepted} and one {@code event} {@code {"type":"result","id":...,"text":...}}
 * (seqs from 1; the text derived from {@code data} as the gateway's echo worker does), preceded by
 * {@code delta} events when asked to stream like the echo worker; {@code pong} for {@code ping};
 * for {@code end}, {@code status ended} {@code client_end} and a close with 1000, as the gateway
 * does; {@code ack} and {@code interrupt} are ignored. One instance per connection, used only on its event
 * loop.
 */
final class BaselineHandler extends SimpleChannelInboundHandler<WebSocketFrame> {

    /** Far enough in the future that no client ever plans a refresh (epoch seconds, year 2100). */
    static final long FAR_FUTURE = 4_102_444_800L;

    private static final WireCodec CODEC = new WireCodec();

    private final int deltas;
    private long seq;

    /** {@code deltas}: delta events before each result, 0 for none (the echo worker's {@code deltas}). */
    BaselineHandler(int deltas) {
        this.deltas = deltas;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            String id = "baseline." + UUID.randomUUID();
            send(ctx, new ServerMessage.SessionReady(id, false, 0, FAR_FUTURE, SessionState.IDLE), true);
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        if (!(frame instanceof TextWebSocketFrame textFrame)) {
            send(ctx, ServerMessage.ErrorFrame.of(ErrorCode.BINARY_NOT_SUPPORTED, "text frames only"), true);
            return;
        }
        ClientMessage message;
        try {
            message = CODEC.decodeClient(textFrame.text());
        } catch (ProtocolException e) {
            send(ctx, ServerMessage.ErrorFrame.of(e.code(), e.getMessage()), true);
            return;
        }
        if (message instanceof ClientMessage.Message m) {
            send(ctx, new ServerMessage.Accepted(m.id(), false, 0), false);
            String answer = EchoText.of(m.data());
            for (String part : EchoText.split(answer, deltas)) {
                send(ctx, new ServerMessage.Event(++seq, event("delta", m.id(), part)), false);
            }
            send(ctx, new ServerMessage.Event(++seq, event("result", m.id(), answer)), true);
        } else if (message instanceof ClientMessage.Ping) {
            send(ctx, new ServerMessage.Pong(), true);
        } else if (message instanceof ClientMessage.AuthRefresh) {
            send(ctx, new ServerMessage.AuthOk(FAR_FUTURE), true);
        } else if (message instanceof ClientMessage.End) {
            // As the gateway answers it (contract section 8.7), so that a run ends the same way against both.
            ctx.writeAndFlush(new TextWebSocketFrame(
                            CODEC.encode(new ServerMessage.Status(++seq, SessionState.ENDED, "client_end"))))
                    .addListener(f -> ctx.writeAndFlush(new CloseWebSocketFrame(1000, "client_end"))
                            .addListener(ChannelFutureListener.CLOSE));
            return;
        }
        // ack and interrupt: nothing to do without a replay buffer or a worker.
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Unwatched.close(ctx);
    }

    private static JsonNode event(String type, String id, String text) {
        ObjectNode event = CODEC.mapper().createObjectNode();
        event.put("type", type);
        event.put("id", id);
        event.put("text", text);
        return event;
    }

    private static void send(ChannelHandlerContext ctx, ServerMessage message, boolean flush) {
        TextWebSocketFrame frame = new TextWebSocketFrame(CODEC.encode(message));
        if (flush) {
            Unwatched.writeAndFlush(ctx, frame);
        } else {
            Unwatched.write(ctx, frame);
        }
    }
}
