package dev.tether.gateway.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.auth.TokenMinter;
import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.config.ConfigLoader;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.http.HttpRoutes;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.protocol.WireCodec;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link GatewayPipeline} against live connections: the real {@link GatewayInitializer} serves a
 * listener on {@code 127.0.0.1:0}, and the server side of each accepted connection shows the
 * stages of {@link GatewayPipeline#ORDER}, in that order, before the upgrade (a plain TCP client)
 * and after the handshake (a Tyrus client with a session). Netty's own handlers (the handshaker's
 * {@code wsencoder}/{@code wsdecoder}, its frame validator) are left out of the comparison.
 */
class GatewayPipelineIT {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private final GatewayConfig config = ConfigLoader.parse("", Map.of());
    private final TokenVerifier verifier = PipelineFixtures.verifier(config.auth());
    private final TokenMinter minter = PipelineFixtures.minter(config.auth());
    private final SessionRegistry registry = PipelineFixtures.echoRegistry(config, verifier);
    private final EventLoopGroup loops = new NioEventLoopGroup(1);
    private final LinkedBlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
    private InetSocketAddress address;

    @AfterEach
    void stop() throws Exception {
        registry.endAll(EndReason.SHUTDOWN).get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        loops.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
    }

    @Test
    void aConnectionBeforeItsUpgradeHasTheDeclaredStagesInOrder() throws Exception {
        start();
        try (Socket client = new Socket(address.getAddress(), address.getPort())) {
            Channel server = nextAccepted();
            assertEquals(GatewayPipeline.beforeUpgrade(Set.of()), stages(server));
        }
    }

    @Test
    void aWebSocketAfterItsHandshakeHasTheDeclaredStagesInOrder() throws Exception {
        start();
        URI uri = URI.create(
                "ws://127.0.0.1:" + address.getPort() + config.server().path());
        try (SessionClient client = SessionClient.open(uri, minter.mint("pipeline", Duration.ofMinutes(5), Map.of()))) {
            Channel server = nextAccepted();
            assertEquals(GatewayPipeline.afterHandshake(Set.of()), stages(server));
        }
    }

    @Test
    void aWebSocketThatAskedForBatchesAlsoHasTheBatchStage() throws Exception {
        start();
        URI uri = URI.create(
                "ws://127.0.0.1:" + address.getPort() + config.server().path() + "?batch=10");
        try (SessionClient client = SessionClient.open(uri, minter.mint("pipeline", Duration.ofMinutes(5), Map.of()))) {
            Channel server = nextAccepted();
            assertEquals(GatewayPipeline.afterHandshake(Set.of(GatewayPipeline.BATCH)), stages(server));
        }
    }

    @Test
    void addPlacesEachStageByTheOrderWhateverTheOrderOfTheCalls() {
        EmbeddedChannel channel = new EmbeddedChannel();
        List<String> order = GatewayPipeline.ORDER;
        for (int i = order.size() - 1; i >= 0; i -= 2) {
            GatewayPipeline.add(channel.pipeline(), order.get(i), new ChannelInboundHandlerAdapter());
        }
        for (int i = order.size() - 2; i >= 0; i -= 2) {
            GatewayPipeline.add(channel.pipeline(), order.get(i), new ChannelInboundHandlerAdapter());
        }
        assertEquals(order, gatewayNames(channel.pipeline().names()));
        assertThrows(
                IllegalArgumentException.class,
                () -> GatewayPipeline.add(channel.pipeline(), "unlisted", new ChannelInboundHandlerAdapter()));
        assertFalse(channel.finish());
    }

    private void start() throws InterruptedException {
        GatewayInitializer initializer = new GatewayInitializer(
                config,
                new WireCodec(),
                verifier,
                registry,
                HttpRoutes.builder().build(),
                Ticker.systemTicker(),
                null);
        Channel listener = new ServerBootstrap()
                .group(loops)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        accepted.add(channel);
                        channel.pipeline().addLast(initializer);
                    }
                })
                .bind("127.0.0.1", 0)
                .sync()
                .channel();
        address = (InetSocketAddress) listener.localAddress();
    }

    private Channel nextAccepted() throws InterruptedException {
        Channel channel = accepted.poll(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        if (channel == null) {
            throw new AssertionError("no connection accepted within " + DEADLINE);
        }
        return channel;
    }

    /** The channel's handler names, read on its event loop, without Netty's own. */
    private static List<String> stages(Channel channel) throws Exception {
        return gatewayNames(channel.eventLoop()
                .submit(() -> channel.pipeline().names())
                .get(DEADLINE.toSeconds(), TimeUnit.SECONDS));
    }

    /**
     * Leaves out the names Netty gives: the pipeline's tail, generated {@code Type#n} names, the
     * WebSocket handshaker's {@code wsencoder}/{@code wsdecoder}, and handlers Netty names after
     * their class ({@code io.netty...}).
     */
    private static List<String> gatewayNames(List<String> names) {
        return names.stream()
                .filter(name -> !name.contains("#"))
                .filter(name -> !name.equals("wsencoder") && !name.equals("wsdecoder"))
                .filter(name -> !name.startsWith("io.netty."))
                .toList();
    }
}
