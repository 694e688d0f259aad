package dev.tether.loadtest.baseline;

import static java.util.Objects.requireNonNull;

import dev.tether.loadtest.process.ChildProcess;
import dev.tether.loadtest.process.ChildServer;
import dev.tether.loadtest.process.RunningProcess;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The floor of this machine: a minimal raw Netty WebSocket server that answers the load test's
 * steady workload exactly as the gateway's echo worker would, and does nothing else (no auth, no
 * sessions, no replay buffer, no worker). Figures of the gateway are quoted as ratios to it.
 *
 * <p>Run it as its own JVM: {@code java -cp loadtest.jar dev.tether.loadtest.baseline.BaselineServer
 * --port 0}; it prints {@code listening on 127.0.0.1:<port>} once bound. {@link #launch} does that
 * from the load test. {@link #start} runs it in this JVM (tests). Uses epoll when available, else
 * NIO, like the gateway with {@code prefer_epoll}. Its own threads: one acceptor, one event loop per
 * core; {@link #close()} may be called from any thread.
 */
public final class BaselineServer implements AutoCloseable {

    /** The line printed on stdout once bound; {@link #launch} waits for it. */
    public static final Pattern LISTENING = Pattern.compile("listening on (\\S+):(\\d+)");

    /** The WebSocket path served, the same as the gateway's default. */
    public static final String PATH = "/ws";

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel listener;
    private final String transport;

    private BaselineServer(EventLoopGroup boss, EventLoopGroup workers, Channel listener, String transport) {
        this.boss = boss;
        this.workers = workers;
        this.listener = listener;
        this.transport = transport;
    }

    /** Binds {@code host:port} (0 for any free port) in this JVM; one result event per message, no deltas. */
    public static BaselineServer start(String host, int port) throws InterruptedException {
        return start(host, port, 0);
    }

    /**
     * Binds {@code host:port} in this JVM, streaming {@code deltas} delta events before each
     * result (set it to the gateway's {@code worker.echo.deltas} for a like-for-like event count).
     */
    public static BaselineServer start(String host, int port, int deltas) throws InterruptedException {
        requireNonNull(host, "host");
        if (deltas < 0) {
            throw new IllegalArgumentException("deltas must be >= 0: " + deltas);
        }
        boolean epoll = Epoll.isAvailable();
        DefaultThreadFactory acceptThreads = new DefaultThreadFactory("baseline-accept");
        DefaultThreadFactory ioThreads = new DefaultThreadFactory("baseline-io");
        EventLoopGroup boss =
                epoll ? new EpollEventLoopGroup(1, acceptThreads) : new NioEventLoopGroup(1, acceptThreads);
        EventLoopGroup workers = epoll ? new EpollEventLoopGroup(0, ioThreads) : new NioEventLoopGroup(0, ioThreads);
        Class<? extends ServerChannel> channelType =
                epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        try {
            Channel listener = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(channelType)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new BaselineInitializer(deltas))
                    .bind(host, port)
                    .sync()
                    .channel();
            return new BaselineServer(boss, workers, listener, epoll ? "epoll" : "nio");
        } catch (RuntimeException | InterruptedException e) {
            // Not started: the loops end before the failure is thrown (no threads left behind).
            boss.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly();
            workers.shutdownGracefully(0, 0, TimeUnit.SECONDS).awaitUninterruptibly();
            throw e;
        }
    }

    /** The bound address (the real port when started with 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** {@code epoll} or {@code nio}. */
    public String transport() {
        return transport;
    }

    /** Closes the listener and every connection, and waits for the event loops to end. */
    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /**
     * Starts the baseline server as its own JVM, with the class path of this one, and waits (up to
     * 30 s) until it listens.
     *
     * @param javaHome the JDK or JRE to run it with; null for the running JVM's
     */
    public static RunningProcess launch(Path javaHome) {
        return launch(javaHome, List.of(), null, 0);
    }

    /** As {@link #launch(Path)}, with JVM options and a file for its output (null: last lines kept in memory). */
    public static RunningProcess launch(Path javaHome, List<String> jvmOptions, Path logFile) {
        return launch(javaHome, jvmOptions, logFile, 0);
    }

    /**
     * As {@link #launch(Path)}, with JVM options (e.g. {@code -Xmx256m}), a file for its output
     * (null to keep only the last lines in memory) and delta events per message (see
     * {@link #start(String, int, int)}).
     */
    public static RunningProcess launch(Path javaHome, List<String> jvmOptions, Path logFile, int deltas) {
        requireNonNull(jvmOptions, "jvmOptions");
        List<String> command = new ArrayList<>();
        command.add(ChildProcess.javaLauncher(javaHome));
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(BaselineServer.class.getName());
        command.add("--port");
        command.add("0");
        command.add("--deltas");
        command.add(Integer.toString(deltas));
        ChildProcess child = ChildProcess.start(command, Map.of(), logFile, LISTENING);
        var match = child.awaitLine(Duration.ofSeconds(30));
        URI uri = URI.create("ws://" + match.group(1) + ":" + match.group(2) + PATH);
        return new ChildServer(child, uri);
    }

    /**
     * {@code [--host HOST] [--port PORT] [--deltas N]}: binds (default 127.0.0.1, port 0), prints the listening
     * line and serves until the JVM is told to stop (SIGTERM or SIGINT).
     */
    public static void main(String[] args) throws InterruptedException {
        String host = "127.0.0.1";
        int port = 0;
        int deltas = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--host" -> host = value(args, ++i);
                case "--port" -> port = Integer.parseInt(value(args, ++i));
                case "--deltas" -> deltas = Integer.parseInt(value(args, ++i));
                case "--help", "-h" -> {
                    System.out.println("usage: BaselineServer [--host 127.0.0.1] [--port 0] [--deltas 0]");
                    return;
                }
                default -> {
                    System.err.println("unknown option: " + args[i]
                            + " (usage: BaselineServer [--host H] [--port P] [--deltas N])");
                    System.exit(2);
                }
            }
        }
        BaselineServer server = start(host, port, deltas);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            server.close();
                            stopped.countDown();
                        },
                        "baseline-shutdown"));
        System.out.println("listening on " + host + ":" + server.address().getPort() + " (path " + PATH + ", transport "
                + server.transport() + ")");
        System.out.flush();
        stopped.await();
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            System.err.println(args[i - 1] + " needs a value");
            System.exit(2);
        }
        return args[i];
    }
}
