package dev.tether.gateway.server;

import static java.util.Objects.requireNonNull;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.tether.gateway.admin.AdminServer;
import dev.tether.gateway.async.Unwatched;
import dev.tether.gateway.auth.KeyRing;
import dev.tether.gateway.auth.TokenVerifier;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.ConfigChanges;
import dev.tether.gateway.config.Durations;
import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.config.ProcessWorkerConfig;
import dev.tether.gateway.http.HttpRoutes;
import dev.tether.gateway.http.Probes;
import dev.tether.gateway.metrics.MicrometerMetrics;
import dev.tether.gateway.metrics.PrometheusEndpoint;
import dev.tether.gateway.pipeline.GatewayInitializer;
import dev.tether.gateway.session.EndReason;
import dev.tether.gateway.session.HibernationSweep;
import dev.tether.gateway.session.SessionRegistry;
import dev.tether.gateway.store.MemorySessionStore;
import dev.tether.gateway.store.SharedSessionStore;
import dev.tether.gateway.tls.CertificateReloader;
import dev.tether.gateway.tls.TlsFiles;
import dev.tether.gateway.tls.TlsProviders;
import dev.tether.gateway.web.WebRoutes;
import dev.tether.gateway.worker.EchoWorkerSource;
import dev.tether.gateway.worker.WorkerSource;
import dev.tether.gateway.worker.pool.WorkerPool;
import dev.tether.gateway.worker.process.ControlGroups;
import dev.tether.gateway.worker.process.DiskMonitor;
import dev.tether.gateway.worker.process.ProcessTree;
import dev.tether.gateway.worker.process.ProcessWorkerLauncher;
import dev.tether.gateway.worker.process.RssMonitor;
import dev.tether.gateway.worker.process.Spawner;
import dev.tether.gateway.worker.process.WorkerLedger;
import dev.tether.protocol.CloseCode;
import dev.tether.protocol.WireCodec;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway process: event loops, the listening socket, the session registry and the worker
 * source, wired from one {@link GatewayConfig}. {@link #start()} binds; {@link #apply} switches to
 * a reloaded configuration (see {@link ConfigReloader}); {@link #close()} ends every session and
 * releases everything; {@link #drain(String)} does the same gracefully, letting running turns
 * finish first, and {@link #forceStop()} cuts a drain short.
 *
 * <p>Thread-safe: {@link #drain}, {@link #forceStop} and {@link #close} may be called from any
 * thread (a signal handler, the admin API, a shutdown hook); only {@link #close} blocks.
 */
public final class GatewayServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GatewayServer.class);

    /** The configuration the gateway started with: what the restart-only keys keep. */
    private final GatewayConfig config;
    /** The configuration in force: the last one applied, restart-only keys at their start-up values. */
    private final AtomicReference<GatewayConfig> current;
    /** The last configuration handed to {@link #apply} (or the first): what a reload is compared with. */
    private GatewayConfig requested;

    private final EventLoopGroup bossGroup;
    private final EventLoopGroup workerGroup;
    private final Class<? extends ServerSocketChannel> channelType;
    private final String transport;
    private final WorkerSource workers;
    private final WorkerPool pool;
    /** Starts worker processes (the parent of them all); null when workers are not subprocesses. */
    private final Spawner spawner;
    /** Where each worker tree gets control groups; null when workers are not subprocesses or limits are polled. */
    private final ControlGroups groups;

    private final ScheduledExecutorService workerTimers;
    private final ScheduledExecutorService poolScheduler;
    private final KeyRing keys;
    /** Runs the key file checks; null when no key comes from a file. */
    private final ScheduledExecutorService keyChecks;
    /** The certificates of {@code server.tls} and {@code admin.tls}; null where TLS is off. */
    private final CertificateReloader tls;

    private final CertificateReloader adminTls;
    /** Runs the certificate file checks; null with {@code server.tls} off. */
    private final ScheduledExecutorService tlsChecks;
    /** With {@code sessions.store: redis}: this node's side of the shared store, and its timers; else null. */
    private final SharedSessionStore sharedStore;

    private final ScheduledExecutorService storeTimers;
    private final SessionRegistry registry;
    private final RssMonitor rssMonitor;
    /** Puts idle sessions to sleep by the injected clock ({@code limits.hibernate_after}). */
    private final HibernationSweep hibernation;

    private final DiskMonitor diskMonitor;
    private final GatewayInitializer initializer;
    /** The meters served at {@code /metrics}. */
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** The admin listener; null when {@code admin.enabled} is false. */
    private final AdminServer admin;

    private Channel listener;
    private InetSocketAddress adminAddress;
    private boolean closed;
    /** Guards {@link #drained}; never held while waiting. */
    private final Object drainLock = new Object();
    /** Completes when a drain has finished (everything closed); null until {@link #drain} is called. */
    private CompletableFuture<Void> drained;
    /** Completes when {@link #close()} has finished. */
    private final CompletableFuture<Void> closedDone = new CompletableFuture<>();
    /**
     * Completes, with why, when the drain stops waiting for running turns (none runs, timeout,
     * {@link #forceStop()}); null until {@link #drain} is called. Guarded by {@link #drainLock}.
     */
    private CompletableFuture<String> turnsSettled;
    /** Every worker process this gateway started and has not finished with, across reloads. */
    private final WorkerLedger ledger = new WorkerLedger();
    /** {@link #close()} is stopping the workers: {@link #forceStop()} now skips their graces. */
    private volatile boolean stoppingWorkers;

    /** Time beyond the workers' graces that shutdown waits for them. */
    private static final Duration SHUTDOWN_MARGIN = Duration.ofSeconds(5);

    public GatewayServer(GatewayConfig config, Clock clock) {
        this.config = requireNonNull(config, "config");
        this.current = new AtomicReference<>(config);
        this.requested = config;
        requireNonNull(clock, "clock");
        WireCodec codec = new WireCodec();
        this.keys = keyRing(config.auth(), clock);
        this.keyChecks = keys.watchesFiles()
                ? Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("tether-keys", true))
                : null;
        // Before any thread is started: a certificate that cannot be served fails start-up, naming its key.
        if (config.server().tls().enabled()) {
            SslProvider provider = TlsProviders.choose(config.server().tls().provider());
            this.tls = new CertificateReloader("server", TlsFiles.server(config, provider), clock);
            this.adminTls = config.admin().enabled() && config.admin().tls().enabled()
                    ? new CertificateReloader("admin", TlsFiles.admin(config, provider), clock)
                    : null;
            this.tlsChecks = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("tether-tls", true));
        } else {
            this.tls = null;
            this.adminTls = null;
            this.tlsChecks = null;
        }
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
        if (config.worker().usesProcesses()) {
            if (!epoll) {
                throw new IllegalStateException("subprocess workers need Netty's native epoll transport, which is not "
                        + "available here (" + Epoll.unavailabilityCause() + ")");
            }
            groups = chooseControlGroups(config.worker().process());
            spawner = startSpawner(workerGroup);
            workerTimers = Executors.newScheduledThreadPool(2, new DefaultThreadFactory("tether-worker-timers", true));
            poolScheduler = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("tether-pool", true));
            ProcessWorkerLauncher launcher =
                    new ProcessWorkerLauncher(config.worker().process(), workerTimers, spawner, ledger, groups);
            pool = new WorkerPool(config.pool(), launcher, poolScheduler, Ticker.systemTicker());
            workers = pool;
        } else {
            spawner = null;
            groups = null;
            workerTimers = null;
            poolScheduler = null;
            pool = null;
            workers = new EchoWorkerSource(
                    config.worker().echo().deltas(), config.worker().echo().deltaInterval());
        }
        MicrometerMetrics metrics = new MicrometerMetrics(meters).bindJvm();
        if (config.sessions().shared()) {
            storeTimers = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("tether-store", true));
            sharedStore = SharedSessionStore.start(
                    config.sessions().redis().uri(),
                    config.server().nodeId(),
                    config.sessions(),
                    config.sessions().redis().lease(),
                    config.sessions().handoffTimeout(),
                    config.limits()
                            .longestDuration()
                            .plus(config.limits().durationGrace())
                            .plus(config.sessions().reconnectWindow()),
                    codec,
                    clock,
                    storeTimers);
        } else {
            storeTimers = null;
            sharedStore = null;
        }
        this.registry = new SessionRegistry(
                config,
                codec,
                keys,
                workers,
                Ticker.systemTicker(),
                clock,
                metrics,
                sharedStore == null ? MemorySessionStore.ofThisRelease() : sharedStore);
        if (sharedStore != null) {
            Duration handoff = config.sessions().handoffTimeout();
            sharedStore.onNodeRequests(id -> {
                registry.get(id).ifPresent(session -> session.handOff(handoff));
                return registry.get(id).isPresent();
            });
        }
        metrics.bindSessions(registry::census);
        if (pool != null) {
            metrics.bindPool(pool::status);
        }
        this.rssMonitor = new RssMonitor(
                registry::all,
                config.limits().rssPollInterval(),
                () -> ProcessTree.Snapshot.take()::rssBytes,
                metrics::workerRss);
        this.hibernation = new HibernationSweep(registry::all, clock);
        this.diskMonitor =
                new DiskMonitor(registry::all, () -> current.get().worker().process(), metrics::workerDisk);
        this.initializer = new GatewayInitializer(
                config, codec, keys, registry, routes(codec, meters, clock), Ticker.systemTicker(), tls);
        metrics.bindConnections(initializer.gate());
        this.admin = config.admin().enabled()
                ? new AdminServer(
                        config.admin(),
                        bossGroup,
                        workerGroup,
                        channelType,
                        keys,
                        registry,
                        () -> pool().map(WorkerPool::status),
                        config.worker().kind(),
                        () -> drain("admin API"),
                        adminTls)
                : null;
    }

    /**
     * Starts the worker pool (waiting for a warm worker when {@code pool.require_warm_on_start} is
     * set) and binds the listening socket; returns the bound address (useful with port 0).
     *
     * @throws IllegalStateException when a warm worker was required and none became ready in time
     */
    public InetSocketAddress start() throws InterruptedException {
        if (pool != null) {
            pool.start();
            Duration timeout = config.pool().warmStartTimeout();
            if (config.pool().requireWarmOnStart() && !pool.awaitWarm(timeout)) {
                String message = pool.notWarmMessage(timeout);
                close();
                throw new IllegalStateException(message);
            }
            rssMonitor.start();
            diskMonitor.start(config.worker().process().diskPollInterval());
        }
        hibernation.start();
        if (keyChecks != null) {
            keys.start(keyChecks, config.auth().keyReloadInterval());
        }
        if (tls != null) {
            tls.start(tlsChecks, config.server().tls().reloadInterval());
            if (adminTls != null) {
                adminTls.start(tlsChecks, config.server().tls().reloadInterval());
            }
        }
        if (admin != null) {
            // First, so that a gateway whose admin port is taken fails before it says "listening on".
            adminAddress = bind(
                    admin::start,
                    config.admin().host(),
                    config.admin().port(),
                    "admin.host, admin.port, TETHER_ADMIN_PORT");
        }
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(channelType)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .handler(new AcceptFailureHandler(initializer.gate(), registry.metrics()))
                // The write-buffer water mark is set per connection by GatewayInitializer (it follows reloads).
                .childHandler(initializer);
        InetSocketAddress address = bind(
                () -> {
                    listener = bootstrap
                            .bind(config.server().host(), config.server().port())
                            .sync()
                            .channel();
                    return (InetSocketAddress) listener.localAddress();
                },
                config.server().host(),
                config.server().port(),
                "server.host, server.port, TETHER_PORT");
        log.info(
                "listening on {}:{} (path {}, transport {}, {})",
                config.server().host(),
                address.getPort(),
                config.server().path(),
                transport,
                tls == null ? "plain ws://" : "TLS wss://");
        if (config.web().devTokens()) {
            log.warn(
                    "web.dev_tokens is on: GET {} signs a token for anyone who asks (development only)",
                    WebRoutes.DEV_TOKEN_PATH);
        }
        if (config.web().demoPage()) {
            log.info(
                    "demo page: {}://{}:{}/",
                    tls == null ? "http" : "https",
                    browsableHost(config.server().host()),
                    address.getPort());
        }
        return address;
    }

    /** Binds a listener; what it needs to do so, as an {@link InetSocketAddress}-returning step. */
    @FunctionalInterface
    private interface BindStep {
        InetSocketAddress bind() throws Exception;
    }

    /**
     * Runs {@code step}, turning a failure (typically the address in use) into an exception that
     * names the address and the keys that set it, for the start-up log.
     */
    private static InetSocketAddress bind(BindStep step, String host, int port, String keys)
            throws InterruptedException {
        try {
            return step.bind();
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(
                    "cannot listen on " + host + ":" + port + " (" + keys + "): "
                            + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()),
                    e);
        }
    }

    /**
     * Whether {@code limits.rss_hard_limit} and {@code worker.process.max_processes} are the kernel's
     * to enforce, in a control group per worker tree, or polled ({@code worker.process.limit_enforcement});
     * logs which and why.
     */
    private ControlGroups chooseControlGroups(ProcessWorkerConfig process) {
        ControlGroups.Choice choice = ControlGroups.choose(
                process.limitEnforcement(), () -> current.get().limits().rssHardLimit());
        if (choice.groups() != null) {
            log.info(
                    "worker limits: a control group per worker tree, the kernel enforces limits.rss_hard_limit "
                            + "and worker.process.max_processes ({})",
                    choice.why());
        } else {
            log.info(
                    "worker limits: polled, limits.rss_hard_limit by the RSS sampler every {} and "
                            + "worker.process.max_processes as RLIMIT_NPROC ({})",
                    Durations.format(config.limits().rssPollInterval()),
                    choice.why());
        }
        return choice.groups();
    }

    private static Spawner startSpawner(EventLoopGroup group) {
        try {
            return Spawner.start(group);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the worker spawner: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the worker spawner", e);
        }
    }

    /** A host a browser on this machine can open: the loopback address for a wildcard bind. */
    static String browsableHost(String host) {
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            return "127.0.0.1";
        }
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** The bound address of the admin listener, once started with {@code admin.enabled} (useful with port 0). */
    public Optional<InetSocketAddress> adminAddress() {
        return Optional.ofNullable(adminAddress);
    }

    /** The configuration in force now (restart-only keys at their start-up values). */
    public GatewayConfig config() {
        return current.get();
    }

    /**
     * Switches to a reloaded configuration without a restart, as far as it can (see {@link
     * ConfigChanges#RESTART_ONLY} for what cannot change). From now on new connections and upgrades
     * use the new {@code server} origin, frame and handshake settings, {@code auth.allow_query_token},
     * admission limits and {@code abuse} limits; new sessions use the new {@code sessions},
     * {@code limits} and auth refresh timings; a changed {@code worker.process} replaces the idle pool
     * workers. Sessions that exist keep the settings they started with. Called from the config
     * reloader's thread, never an event loop.
     *
     * @return which keys differ from the configuration last applied, and which of them need a restart
     * @throws dev.tether.gateway.config.ConfigException if the live keys of {@code next} do not fit
     *     with the restart-only keys in force; then nothing changes
     */
    public synchronized ConfigChanges.Applied apply(GatewayConfig next) {
        requireNonNull(next, "next");
        GatewayConfig running = current.get();
        GatewayConfig effective = ConfigChanges.effective(config, next);
        List<String> changed = ConfigChanges.changedKeys(requested, next);
        List<String> pending = ConfigChanges.changedKeys(effective, next);
        List<String> needRestart = changed.stream().filter(pending::contains).toList();
        registry.apply(effective);
        initializer.apply(effective);
        checkCertificates();
        if (pool != null
                && !effective.worker().process().equals(running.worker().process())) {
            applyWorkerConfig(effective.worker().process());
        }
        current.set(effective);
        requested = next;
        return new ConfigChanges.Applied(changed, needRestart);
    }

    /**
     * Checks the certificate files now rather than at the next {@code server.tls.reload_interval} (a
     * config reload, SIGHUP, asks for it), on the TLS checks' thread; returns at once.
     */
    private void checkCertificates() {
        if (tlsChecks == null) {
            return;
        }
        try {
            tlsChecks.execute(() -> {
                tls.checkNow();
                if (adminTls != null) {
                    adminTls.checkNow();
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            log.debug("certificate check not run: closing");
        }
    }

    /** The certificate the main listener serves new connections, when {@code server.tls} is on (for tools and tests). */
    public Optional<CertificateReloader> tls() {
        return Optional.ofNullable(tls);
    }

    /** The admin listener's, when {@code admin.tls} is on. */
    public Optional<CertificateReloader> adminTls() {
        return Optional.ofNullable(adminTls);
    }

    /** The session registry (for operators' tools and tests). */
    public SessionRegistry registry() {
        return registry;
    }

    /**
     * Applies a changed {@code worker.process} section: new workers run the new command and
     * environment, and every idle warm worker is replaced (sessions keep the worker they have).
     *
     * @throws IllegalStateException when this gateway does not run subprocess workers
     */
    public void applyWorkerConfig(ProcessWorkerConfig next) {
        if (pool == null) {
            throw new IllegalStateException("worker.kind is not process: there is no pool to reconfigure");
        }
        ProcessWorkerLauncher launcher = new ProcessWorkerLauncher(next, workerTimers, spawner, ledger, groups);
        pool.reconfigure(launcher);
        log.info(
                "worker configuration changed: idle workers are being replaced ({})",
                String.join(" ", launcher.command()));
    }

    /**
     * The plain HTTP endpoints served next to the WebSocket: {@code /healthz}, {@code /readyz},
     * {@code /metrics}, and the {@code web} section's client library, demo page and dev tokens.
     */
    private HttpRoutes routes(WireCodec codec, PrometheusMeterRegistry meters, Clock clock) {
        WorkerPool workerPool = pool;
        Probes probes = new Probes(
                codec.mapper(),
                registry::draining,
                registry::atCapacity,
                () -> workerPool == null ? null : workerPool.status(),
                () -> sharedStore != null && !sharedStore.reachable());
        HttpRoutes.Builder routes = probes.addTo(HttpRoutes.builder()).add("/metrics", new PrometheusEndpoint(meters));
        return new WebRoutes(config.web(), config.auth(), codec.mapper(), clock)
                .addTo(routes)
                .build();
    }
    /**
     * Drains the gateway gracefully; idempotent (later calls return the same completion). At once:
     * {@code /readyz} answers 503 {@code draining}, upgrades (new and resumes) are refused with 503
     * {@code shutting_down}, every attached connection gets {@code shutting_down}, later messages
     * are refused with error {@code shutting_down}, and queued messages are dropped unstarted (see
     * {@link dev.tether.gateway.session.Session#drain}). Running turns get up to {@code drain.timeout};
     * once none runs (or the timeout passes, or {@link #forceStop()} is called) every session ends
     * with {@code status ended shutdown} and close 1001 as {@link #close()} stops everything, its
     * worker through the normal path (shutdown line, stop and kill graces). Never blocks:
     * {@link #close()} runs on a thread of its own.
     *
     * @param reason why, for the log (e.g. {@code "SIGTERM"}, {@code "admin API"})
     * @return completes once the drain has finished and the gateway is closed
     */
    public CompletionStage<Void> drain(String reason) {
        requireNonNull(reason, "reason");
        CompletableFuture<Void> done;
        CompletableFuture<String> settled;
        synchronized (drainLock) {
            if (drained != null) {
                return drained.minimalCompletionStage();
            }
            drained = done = new CompletableFuture<>();
            turnsSettled = settled = new CompletableFuture<>();
        }
        Duration timeout = config.drain().timeout();
        log.info("draining ({}): refusing new sessions, running turns get up to {}", reason, timeout);
        Unwatched.whenComplete(
                registry.drain(config.drain().retryAfter().toSeconds()),
                (ignored, error) -> settled.complete("no turn is running"));
        settled.completeOnTimeout("drain.timeout (" + timeout + ") passed", timeout.toNanos(), TimeUnit.NANOSECONDS);
        settled.thenAccept(why -> {
                    Thread finisher = new Thread(() -> finishDrain(why, done), "tether-drain");
                    finisher.setDaemon(true);
                    finisher.start();
                })
                .exceptionally(Unwatched::logFailure);
        return done.minimalCompletionStage();
    }

    /**
     * Cuts short what the stop waits for now (a second SIGTERM). While the drain waits for running
     * turns, it stops waiting: sessions end (1001) and the gateway closes, its workers stopped
     * through their graces as usual. Once the workers are being stopped (or the drain no longer
     * waits for turns), their graces are skipped: SIGTERM and SIGKILL to every worker's tree now;
     * the gateway still waits until they are gone. Starts the drain first if none is under way.
     * Never blocks.
     *
     * @return completes once the gateway is closed
     */
    public CompletionStage<Void> forceStop() {
        CompletionStage<Void> done = drain("forced stop");
        CompletableFuture<String> settled;
        synchronized (drainLock) {
            settled = turnsSettled;
        }
        if (!stoppingWorkers && settled.complete("forced")) {
            log.info("drain forced: ending every session now");
        } else {
            int workers = ledger.skipGraces();
            log.info("stop forced: skipping the workers' graces, SIGTERM and SIGKILL to {} worker(s) now", workers);
        }
        return done;
    }

    /** Whether {@link #drain} was called. */
    public boolean draining() {
        return registry.draining();
    }

    private void finishDrain(String why, CompletableFuture<Void> done) {
        try {
            log.info("drain finishing: {}; ending {} sessions", why, registry.size());
            // "drain finished" is logged before close() completes: the process may exit right after.
            shutDown("drain finished");
            done.complete(null);
        } catch (RuntimeException | Error e) {
            done.completeExceptionally(e);
            throw e;
        }
    }

    /** The pid of the worker spawner ({@code tether-spawn}), when workers are subprocesses (for tools and tests). */
    public OptionalLong spawnerPid() {
        return spawner == null ? OptionalLong.empty() : OptionalLong.of(spawner.helperPid());
    }

    /** The worker pool, when workers are subprocesses (for operators' tools and tests). */
    public Optional<WorkerPool> pool() {
        return Optional.ofNullable(pool);
    }

    /**
     * Stops accepting, ends every session, stops every worker through the normal stop path and
     * waits until every process this gateway started is gone and every working directory removed,
     * then releases the timers and event loops. The wait is bounded by the workers' stop and kill
     * graces plus a margin; whatever is left then gets SIGKILL (a final sweep) before this returns.
     * Logs what it took ({@code shutdown: workers stopped: ...}) and {@code stopped}. Blocks;
     * idempotent (a second call waits for the first to finish).
     */
    @Override
    public void close() {
        shutDown(null);
    }

    /** {@link #close()}, logging {@code farewell} (if not null) last, before {@link #closed()} completes. */
    private synchronized void shutDown(String farewell) {
        if (closed) {
            return;
        }
        closed = true;
        if (listener != null) {
            listener.close().syncUninterruptibly();
        }
        if (admin != null) {
            admin.close();
        }
        rssMonitor.close();
        diskMonitor.close();
        hibernation.close();
        keys.close();
        if (keyChecks != null) {
            keyChecks.shutdownNow();
        }
        if (tlsChecks != null) {
            tls.close();
            if (adminTls != null) {
                adminTls.close();
            }
            tlsChecks.shutdownNow();
        }
        // After a drain, clients are told to go elsewhere (1001); a plain close keeps 4011. With the
        // shared store, sessions outlive the node: they are released, and any node takes them over.
        CompletableFuture<Void> sessionsGone = sharedStore != null
                ? registry.releaseAll(CloseCode.GOING_AWAY)
                : registry.endAll(
                        EndReason.SHUTDOWN, registry.draining() ? CloseCode.GOING_AWAY : CloseCode.SESSION_ENDED);
        workers.close();
        registry.admission().close(); // waiting connections close with the event loops below
        ledger.close();
        stoppingWorkers = true;
        awaitWorkers(sessionsGone);
        if (spawner != null) {
            spawner.close(); // after every worker is gone: the parent of them all goes last
        }
        if (sharedStore != null) {
            sessionsGone
                    .orTimeout(SHUTDOWN_MARGIN.toMillis(), TimeUnit.MILLISECONDS)
                    .exceptionally(e -> null)
                    .join();
            sharedStore.close(); // after every session was released: the lease goes last
            storeTimers.shutdownNow();
        }
        // Only now: the workers' stop sequences run on these timers, their sessions on these loops.
        workerGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        bossGroup.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        if (poolScheduler != null) {
            poolScheduler.shutdownNow();
            workerTimers.shutdownNow();
        }
        meters.close();
        if (pool != null) {
            log.info("shutdown: {}", ledger.summary());
        }
        log.info("stopped");
        if (farewell != null) {
            log.info(farewell);
        }
        closedDone.complete(null);
    }

    /**
     * Waits until the sessions have ended and the ledger is empty (every worker process gone, its
     * working directory removed), sessions that ended before the shutdown included, for at most the
     * workers' graces plus {@link #SHUTDOWN_MARGIN}; then sweeps whatever is left with SIGKILL.
     */
    private void awaitWorkers(CompletableFuture<Void> sessionsGone) {
        Duration patience = patience();
        if (pool != null) {
            log.info("stopping workers: waiting up to {} for {} worker(s) to exit", patience, ledger.size());
        }
        boolean interrupted = false;
        try {
            CompletableFuture.allOf(sessionsGone, ledger.emptied().toCompletableFuture())
                    .get(patience.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            interrupted = true;
        } catch (ExecutionException e) {
            log.warn("a session failed to end cleanly: {}", e.getCause().toString());
        } catch (TimeoutException e) {
            log.warn("workers still stopping after {}", patience);
        }
        ledger.sweep();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * How long shutdown waits for the workers: the longest stop and kill graces any of them may
     * have (a reload may have changed them), plus {@link #SHUTDOWN_MARGIN}.
     */
    private Duration patience() {
        ProcessWorkerConfig first = config.worker().process();
        ProcessWorkerConfig now = current.get().worker().process();
        Duration graces = first.stopGrace().plus(first.killGrace());
        Duration reloaded = now.stopGrace().plus(now.killGrace());
        return (reloaded.compareTo(graces) > 0 ? reloaded : graces).plus(SHUTDOWN_MARGIN);
    }

    /** Completes once {@link #close()} has finished, whoever called it (a drain, a shutdown hook, a test). */
    public CompletionStage<Void> closed() {
        return closedDone.minimalCompletionStage();
    }

    /**
     * The verification keys of {@code auth.public_keys}, read now (a broken key fails here, naming its
     * entry) and re-read when their files change once {@link #start()} has run.
     */
    private static KeyRing keyRing(AuthConfig auth, Clock clock) {
        byte[] secret = auth.hmacSecret() == null ? null : auth.hmacSecret().getBytes(StandardCharsets.UTF_8);
        Set<String> algorithms = new HashSet<>(auth.algorithms());
        return new KeyRing(
                auth.keySources(),
                algorithms,
                publicKeys -> new TokenVerifier(
                        algorithms, secret, publicKeys, auth.issuer(), auth.audience(), auth.clockSkew(), clock));
    }
}
