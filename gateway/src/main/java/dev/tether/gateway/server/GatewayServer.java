package dev.tether.gateway.server;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.auth.PemKeys;
import dev.tether.gateway.auth.PublicKeyEntry;
import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.pipeline.GatewayInitializer;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.worker.EchoWorkerSource;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.protocol.WireCodec;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway process: event loops, the listening socket, the session registry and the worker
 * source, wired from one {@link GatewayConfig}. {@link #start()} binds; {@link #close()} ends every
 * session and releases everything.
 */
public final class GatewayServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);

    private final GatewayConfig config;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Class<? extends ServerSocketChannel> channelType;
    private final String transport;
    private final WorkerSource workers;
    private final SessionRegistry registry;
    private final GatewayInitializer initializer;
    private Channel listener;

    public GatewayServer(GatewayConfig config, Clock clock) {
        this.config = requireNonNull(config, "config");
        requireNonNull(clock, "clock");
        WireCodec codec = new WireCodec();
        TokenVerifier verifier = verifier(config.auth(), clock);
        this.workers = new EchoWorkerSource(config.worker().echo().deltas(), config.worker().echo().deltaInterval());
        this.registry = new SessionRegistry(config.sessions(), config.limits(), codec, verifier, workers, Ticker.systemTicker());
        this.initializer = new GatewayInitializer(config, codec, verifier, registry);
        boolean epoll = config.server().preferEpoll() && Epoll.isAvailable();
        int threads = config.server().ioThreads();
        if (epoll) {
            bossGroup = new EpollEventLoopGroup(1, new DefaultThreadFactory("tether-accept"));
            workerGroup = new EpollEventLoopGroup(threads, new DefaultThreadFactory("tether-io"));
            channelType = EpollServerSocketChannel.class;
            transport = "epoll";
        } else {
            bossGroup = new NioEventLoopGroup(1, new DefaultThreadFactory("tether-accept"));
            workerGroup = new NioEventLoopGroup(threads, new DefaultThreadFactory("tether-io"));
            channelType = NioServerSocketChannel.class;
            transport = "nio";
        }
    }

    /** Binds the listening socket; returns the bound address (useful with port 0). */
    public InetSocketAddress start() throws InterruptedException {
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(initializer);
        listener = bootstrap.bind(config.server().host(), config.server().port()).sync().channel();
        InetSocketAddress address = (InetSocketAddress) listener.localAddress();
        log.info("listening on {}:{} (path {}, transport {})", config.server().host(), address.getPort(),
                config.server().path(), transport);
        return address;
    }

    /** The session registry (for operators' tools and tests). */
    public SessionRegistry registry() {
        return registry;
    }

    /** Ends every session, stops accepting and releases the event loops. Blocks until done. */
    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        registry.endAll(EndReason.SHUTDOWN);
        workers.close();
        workerGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        bossGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        log.info("stopped");
    }

    private static TokenVerifier verifier(AuthConfig auth, Clock clock) {
        List<PublicKeyEntry> keys = auth.publicKeys().stream()
                .map(k -> new PublicKeyEntry(k.kid(), k.algorithm(), PemKeys.readPublicKey(k.file(), k.algorithm())))
                .toList();
        byte[] secret = auth.hmacSecret() == null ? null : auth.hmacSecret().getBytes(StandardCharsets.UTF_8);
        Set<String> algorithms = new HashSet<>(auth.algorithms());
        return new TokenVerifier(algorithms, secret, keys, auth.issuer(), auth.audience(), auth.clockSkew(), clock);
    }
}
