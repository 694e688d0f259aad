package dev.tether.gateway.admin;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.auth.TokenVerification;
import dev.tether.gateway.config.AdminConfig;
import dev.tether.gateway.config.ServerConfig;
import dev.tether.gateway.pipeline.HttpRouteHandler;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.tls.CertificateReloader;
import dev.tether.gateway.worker.pool.PoolStatus;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin listener: its own server socket on {@code admin.host:admin.port}, served by the
 * gateway's event loop groups (it adds no threads). Started and closed by the gateway server when
 * {@code admin.enabled}. {@link #start()} and {@link #close()} block, so call them from the thread
 * that starts or stops the gateway, never from an event loop.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

    private final AdminConfig config;
    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Class<? extends ServerSocketChannel> channelType;
    private final AdminInitializer initializer;
    private Channel listener;

    /**
     * @param verifier the gateway's token verification (same keys as the WebSocket)
     * @param pool the worker pool's status, empty when workers are not pooled
     * @param workerKind {@code worker.kind}, reported by the pool endpoint
     * @param drain starts a drain of the gateway without blocking; its stage completes when the
     *     drain is done
     * @param tls the certificate served with {@code admin.tls.enabled} (and the client CA), or null for plain HTTP
     */
    public AdminServer(
            AdminConfig config,
            EventLoopGroup bossGroup,
            EventLoopGroup workerGroup,
            Class<? extends ServerSocketChannel> channelType,
            TokenVerification verifier,
            SessionRegistry registry,
            Supplier<Optional<PoolStatus>> pool,
            String workerKind,
            Supplier<? extends CompletionStage<Void>> drain,
            CertificateReloader tls) {
        this.config = requireNonNull(config, "config");
        this.bossGroup = requireNonNull(bossGroup, "bossGroup");
        this.workerGroup = requireNonNull(workerGroup, "workerGroup");
        this.channelType = requireNonNull(channelType, "channelType");
        ObjectMapper mapper = new ObjectMapper();
        AdminApi api = new AdminApi(registry, pool, workerKind, drain, mapper);
        this.initializer = new AdminInitializer(
                config,
                registry.metrics(),
                new AdminAuthHandler(verifier, config.roleClaim(), config.role(), mapper),
                new HttpRouteHandler(api.routes()),
                tls);
    }

    /** Binds the admin socket; returns the bound address (useful with port 0). */
    public InetSocketAddress start() throws InterruptedException {
        listener = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(channelType)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(initializer)
                .bind(config.host(), config.port())
                .sync()
                .channel();
        InetSocketAddress address = (InetSocketAddress) listener.localAddress();
        log.info(
                "admin listening on {}:{} ({})",
                config.host(),
                address.getPort(),
                !config.tls().enabled()
                        ? "http"
                        : config.tls().requiresClientCertificates() ? "https, client certificates required" : "https");
        if (!ServerConfig.isLoopback(config.host())) {
            log.warn(
                    "admin.host {} is not a loopback address: the admin API (sessions, drain) is reachable from "
                            + "other machines; keep it on loopback or a private interface, behind a firewall",
                    config.host());
        }
        return address;
    }

    /** Stops accepting admin connections; open ones end when the event loops do. */
    @Override
    public void close() {
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
    }
}
