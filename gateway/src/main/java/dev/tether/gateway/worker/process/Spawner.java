package dev.tether.gateway.worker.process;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.async.Unwatched;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketChannel;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.codec.string.StringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts worker processes without a thread per process: a small native helper, {@code
 * tether-spawn} (built from {@code gateway/src/main/c/tether-spawn.c} into the jar), is the parent
 * of every worker, and everything between it, the workers and the gateway is a Unix domain socket
 * served by Netty's native epoll transport on the gateway's event loops.
 *
 * <ul>
 *   <li>The gateway listens on a socket in a directory of its own (mode 700). The helper connects
 *       to it once (the control connection): spawn requests go one way, {@code spawned}/{@code
 *       failed} answers and an {@code exit PID STATUS} for every process that ends come back.
 *   <li>Each worker connects twice before it executes its program, naming its spawn id: once for
 *       stdin and stdout, once for stderr. Those two connections are the worker's stdio, as Netty
 *       channels ({@link SpawnedProcess}); {@link ProcessWorker} reads and writes them on the
 *       session's event loop.
 *   <li>The helper reaps every worker (and, as their subreaper, every orphaned descendant) and
 *       reports the exit, so no thread waits on a process. If the gateway goes away, even by
 *       SIGKILL, the helper sees its control connection end and SIGKILLs every process group it
 *       started.
 * </ul>
 *
 * <p>Thread-safe. {@link #start} and {@link #close} block briefly (file copies, binding, the
 * helper's start); {@link #spawn} never blocks. Needs Linux and Netty's epoll transport.
 */
public final class Spawner implements AutoCloseable {

    /** The helper inside the jar (and the classes directory). */
    static final String HELPER_RESOURCE = "/native/tether-spawn";
    /** How long the helper may take to connect after it was started. */
    static final Duration HELPER_START_TIMEOUT = Duration.ofSeconds(10);
    /** Longest spawn request accepted by the helper (its MAX_REQUEST). */
    static final int MAX_REQUEST_BYTES = 4 * 1024 * 1024;

    private static final Logger log = LoggerFactory.getLogger(Spawner.class);
    private static final String CONTROL_HELLO = "control";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What one spawn waits for: the helper's answer and the worker's two connections. */
    private static final class Pending {
        final CompletableFuture<Long> pid = new CompletableFuture<>();
        final CompletableFuture<Channel> stdio = new CompletableFuture<>();
        final CompletableFuture<Channel> stderr = new CompletableFuture<>();
    }

    private final Path directory;
    private final Channel server;
    private final Process helper;
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<Integer>> exits = new ConcurrentHashMap<>();
    private final CompletableFuture<Channel> control = new CompletableFuture<>();
    private volatile boolean closed;

    private Spawner(Path directory, EventLoopGroup group) throws IOException, InterruptedException {
        this.directory = directory;
        Path binary = directory.resolve("tether-spawn");
        try (InputStream in = Spawner.class.getResourceAsStream(HELPER_RESOURCE)) {
            if (in == null) {
                throw new IOException(HELPER_RESOURCE + " is not on the class path: build the gateway with Maven "
                        + "(it compiles gateway/src/main/c/tether-spawn.c with the machine's C compiler)");
            }
            Files.copy(in, binary, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(binary, PosixFilePermissions.fromString("rwx------"));
        Path socket = directory.resolve("s");
        this.server = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                .childOption(ChannelOption.AUTO_READ, true)
                // A worker that closes its stdio keeps its channel until the gateway is done with it.
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childHandler(new ChannelInitializer<DomainSocketChannel>() {
                    @Override
                    protected void initChannel(DomainSocketChannel channel) {
                        channel.pipeline().addLast(new SpawnHello(Spawner.this::greeted));
                    }
                })
                .bind(new DomainSocketAddress(socket.toFile()))
                .sync()
                .channel();
        this.helper = new ProcessBuilder(binary.toString(), socket.toString())
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    /**
     * Starts the helper and waits until it has connected.
     *
     * @param group epoll event loops, where the helper's and the workers' connections are served
     *     until a session takes a worker to its own loop
     * @throws IOException when the helper cannot be extracted or started, or does not connect
     */
    public static Spawner start(EventLoopGroup group) throws IOException, InterruptedException {
        requireNonNull(group, "group");
        if (!Epoll.isAvailable()) {
            throw new IOException("subprocess workers need Netty's native epoll transport (Linux), which is not "
                    + "available here: " + Epoll.unavailabilityCause());
        }
        Path directory = Files.createTempDirectory(
                "tether-spawn-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Spawner spawner;
        try {
            spawner = new Spawner(directory, group);
        } catch (IOException | RuntimeException | InterruptedException e) {
            WorkDirs.deleteRecursively(directory);
            throw e;
        }
        try {
            spawner.control.get(HELPER_START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            spawner.close();
            throw new IOException(
                    "the worker spawner (tether-spawn) did not connect within " + HELPER_START_TIMEOUT
                            + (spawner.helper.isAlive() ? "" : " (it exited with " + spawner.helper.exitValue() + ")"),
                    e);
        }
        log.debug("worker spawner started (pid {})", spawner.helper.pid());
        return spawner;
    }

    /**
     * Starts {@code argv} in {@code workDir} with exactly {@code env}, in a session and process
     * group of its own. Completes once it runs and both its connections are here; exceptionally
     * when it cannot be started. Never blocks.
     */
    public CompletionStage<SpawnedProcess> spawn(List<String> argv, Map<String, String> env, Path workDir) {
        return spawn(argv, env, workDir, List.of());
    }

    /**
     * Like {@link #spawn(List, Map, Path)}, with {@code limits} applied in the child before its
     * program starts, in order: {@code cgroup=PATH} (joins the group whose {@code cgroup.procs} is
     * PATH), {@code oom_score_adj=N}, {@code rlimit_nofile=N}, {@code rlimit_nproc=N}, {@code
     * rlimit_fsize=N}, {@code rlimit_cpu=N}, {@code rlimit_core=N} (see {@link SpawnLimits}). A limit
     * that cannot be applied fails the spawn, naming it.
     */
    public CompletionStage<SpawnedProcess> spawn(
            List<String> argv, Map<String, String> env, Path workDir, List<String> limits) {
        if (closed) {
            return CompletableFuture.failedFuture(new IOException("the worker spawner is closed"));
        }
        Channel controlChannel = control.getNow(null);
        if (controlChannel == null || !controlChannel.isActive()) {
            return CompletableFuture.failedFuture(new IOException("the worker spawner (tether-spawn) is not running"));
        }
        String id = newId();
        Pending spawn = new Pending();
        pending.put(id, spawn);
        ByteBuf request = controlChannel.alloc().buffer();
        try {
            field(request, "spawn");
            field(request, id);
            field(request, workDir.toString());
            field(request, Integer.toString(argv.size()));
            argv.forEach(argument -> field(request, argument));
            field(request, Integer.toString(env.size()));
            env.forEach((name, value) -> field(request, name + "=" + value));
            if (!limits.isEmpty()) {
                field(request, Integer.toString(limits.size()));
                limits.forEach(limit -> field(request, limit));
            }
        } catch (IllegalArgumentException e) {
            request.release();
            pending.remove(id);
            return CompletableFuture.failedFuture(new IOException(e.getMessage(), e));
        }
        if (request.readableBytes() > MAX_REQUEST_BYTES) {
            request.release();
            pending.remove(id);
            return CompletableFuture.failedFuture(
                    new IOException("worker command and environment over " + MAX_REQUEST_BYTES + " bytes"));
        }
        controlChannel.writeAndFlush(request).addListener(written -> {
            if (!written.isSuccess()) {
                fail(id, new IOException("cannot reach the worker spawner: " + written.cause()));
            }
        });
        CompletableFuture<SpawnedProcess> spawned = spawn.pid.thenCompose(pid -> spawn.stdio.thenCombine(
                spawn.stderr, (stdio, stderr) -> new SpawnedProcess(pid, stdio, stderr, exits.get(pid))));
        Unwatched.whenComplete(spawned, (done, error) -> pending.remove(id, spawn));
        return spawned;
    }

    /**
     * Stops the helper: it SIGKILLs every process group it started (there should be none left: the
     * gateway stops its workers first) and exits; the socket directory is removed. Blocks briefly.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Channel controlChannel = control.getNow(null);
        if (controlChannel != null) {
            controlChannel.close().syncUninterruptibly();
        }
        server.close().syncUninterruptibly();
        try {
            if (!helper.waitFor(HELPER_START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                helper.destroyForcibly();
            }
        } catch (InterruptedException e) {
            helper.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        pending.keySet().forEach(id -> fail(id, new IOException("the worker spawner is closed")));
        try {
            WorkDirs.deleteRecursively(directory);
        } catch (IOException e) {
            log.warn("cannot remove the spawner's directory {}: {}", directory, e.toString());
        }
    }

    /** The helper's pid (for tests and logs). */
    public long helperPid() {
        return helper.pid();
    }

    private static String newId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private static void field(ByteBuf request, String value) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a NUL character in a worker's command or environment");
        }
        request.writeCharSequence(value, StandardCharsets.UTF_8);
        request.writeByte(0);
    }

    private static void closeIfConnected(Channel channel) {
        if (channel != null) {
            Unwatched.close(channel);
        }
    }

    private void fail(String id, Throwable cause) {
        Pending spawn = pending.remove(id);
        if (spawn == null) {
            return;
        }
        spawn.pid.completeExceptionally(cause);
        Unwatched.whenComplete(spawn.stdio, (channel, failed) -> closeIfConnected(channel));
        Unwatched.whenComplete(spawn.stderr, (channel, failed) -> closeIfConnected(channel));
        spawn.stdio.completeExceptionally(cause);
        spawn.stderr.completeExceptionally(cause);
    }

    // ---- the helper's answers, on the control connection's loop ----

    private void onControlLine(String line) {
        String[] words = line.split(" ");
        switch (words[0]) {
            case "spawned" -> {
                long pid = Long.parseLong(words[2]);
                exits.put(pid, new CompletableFuture<>());
                Pending spawn = pending.get(words[1]);
                if (spawn != null) {
                    spawn.pid.complete(pid);
                }
            }
            case "failed" -> fail(words[1], new IOException(failure(words)));
            case "exit" -> {
                CompletableFuture<Integer> exit = exits.remove(Long.parseLong(words[1]));
                if (exit != null) {
                    exit.complete(Integer.parseInt(words[2]));
                }
            }
            default -> log.warn("worker spawner said something unexpected: {}", line);
        }
    }

    /** "failed ID ERRNO STEP": the step that failed and what errno says. */
    static String failure(String[] words) {
        String errno = words.length > 2 ? words[2] : "?";
        String step = words.length > 3 ? words[3] : "?";
        String meaning = switch (errno) {
            case "2" -> "no such file or directory";
            case "13" -> "permission denied";
            case "8" -> "not an executable format";
            case "7" -> "argument list too long";
            case "11" -> "too many processes (try again)";
            case "12" -> "out of memory";
            case "24" -> "too many open files";
            case "1" -> "operation not permitted";
            case "22" -> "invalid argument";
            case "16" -> "device or resource busy";
            default -> "errno " + errno;
        };
        return ("exec".equals(step) ? "cannot execute the worker command" : "cannot start the worker (" + step + ")")
                + ": " + meaning;
    }

    private void onControlClosed() {
        if (!closed) {
            log.error(
                    "the worker spawner (tether-spawn, pid {}) went away: no new worker can start, and the exits of "
                            + "running workers are no longer seen",
                    helper.pid());
        }
        pending.keySet().forEach(id -> fail(id, new IOException("the worker spawner went away")));
    }

    /** A greeting on a new connection: the helper's control connection, or a worker's stdio or stderr. */
    private void greeted(ChannelHandlerContext ctx, String hello) {
        Channel channel = ctx.channel();
        SpawnHello greeter = (SpawnHello) ctx.handler();
        if (CONTROL_HELLO.equals(hello)) {
            channel.pipeline().addFirst(new LengthFieldPrepender(4));
            greeter.handOver(
                    new LineBasedFrameDecoder(1024),
                    new StringDecoder(StandardCharsets.US_ASCII),
                    new ControlHandler());
            control.complete(channel);
            return;
        }
        String[] words = hello.split(" ", -1);
        Pending spawn = words.length == 2 ? pending.get(words[0]) : null;
        if (spawn == null) {
            log.debug("a connection for an unknown or failed spawn: closed");
            Unwatched.close(channel);
        } else if ("stdio".equals(words[1])) {
            spawn.stdio.complete(channel);
        } else if ("stderr".equals(words[1])) {
            spawn.stderr.complete(channel);
        } else {
            Unwatched.close(channel);
        }
    }

    /** The helper's lines. */
    private final class ControlHandler extends SimpleChannelInboundHandler<String> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, String line) {
            try {
                onControlLine(line);
            } catch (RuntimeException e) {
                log.warn("worker spawner line not understood: {} ({})", line, e.toString());
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof ChannelInputShutdownEvent) {
                Unwatched.close(ctx); // the helper is gone
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            onControlClosed();
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.warn("worker spawner connection failed: {}", cause.toString());
            Unwatched.close(ctx);
        }
    }
}
