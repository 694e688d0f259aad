package dev.tether.loadtest.baseline;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

/**
 * The baseline's pipeline, nothing else: HTTP codec, the upgrade on {@code /ws} with subprotocol
 * {@code gateway.v1}, frame aggregation, and {@link BaselineHandler}. Runs on the accepting channel's
 * event loop.
 */
final class BaselineInitializer extends ChannelInitializer<SocketChannel> {

    static final String SUBPROTOCOL = "gateway.v1";
    static final int MAX_FRAME_BYTES = 1 << 20;

    private final int deltas;

    BaselineInitializer(int deltas) {
        this.deltas = deltas;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        WebSocketServerProtocolConfig ws = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(BaselineServer.PATH)
                .subprotocols(SUBPROTOCOL)
                .checkStartsWith(false)
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(MAX_FRAME_BYTES)
                        .build())
                .build();
        ch.pipeline()
                .addLast("http", new HttpServerCodec())
                .addLast("aggregator", new HttpObjectAggregator(64 * 1024))
                .addLast("websocket", new WebSocketServerProtocolHandler(ws))
                .addLast("frames", new WebSocketFrameAggregator(MAX_FRAME_BYTES))
                .addLast("baseline", new BaselineHandler(deltas));
    }
}
