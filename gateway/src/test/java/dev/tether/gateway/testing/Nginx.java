package dev.tether.gateway.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.testkit.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real nginx (Debian's package, {@code /usr/sbin/nginx}; {@code .ci/run} installs it) run in
 * the foreground from the deployment config of {@code docs/deploy/nginx.conf}, its placeholders
 * filled in for a test gateway, in a directory of its own. Closing stops it and waits for it.
 */
public final class Nginx implements AutoCloseable {

    /** Where Debian installs nginx. */
    public static final Path BINARY = Path.of("/usr/sbin/nginx");

    /** The config operators use, relative to the gateway module (the tests' working directory). */
    public static final Path TEMPLATE = Path.of("..", "docs", "deploy", "nginx.conf");

    private final Process process;
    private final Path dir;
    private final int port;

    private Nginx(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    /**
     * A gateway behind nginx.
     *
     * @param nodeId its {@code server.node_id}, or null for a gateway without one (in the pool only,
     *     not in the node map)
     */
    public record Node(String nodeId, InetSocketAddress address) {}

    /** The template with the placeholders filled in for {@code nodes}, each node's upstream alone. */
    public static String config(int listenPort, List<Node> nodes, Duration readTimeout, Path accessLog)
            throws IOException {
        return config(listenPort, nodes, readTimeout, accessLog, false);
    }

    /**
     * The template with the placeholders filled in for {@code nodes}; with {@code backups} (the
     * shared session store), each node's upstream lists the other nodes as backups.
     */
    public static String config(int listenPort, List<Node> nodes, Duration readTimeout, Path accessLog, boolean backups)
            throws IOException {
        String template = Files.readString(TEMPLATE, StandardCharsets.UTF_8);
        StringBuilder gateways = new StringBuilder();
        StringBuilder nodeMap = new StringBuilder();
        StringBuilder nodeUpstreams = new StringBuilder();
        for (Node node : nodes) {
            String server = "server 127.0.0.1:" + node.address().getPort() + ";";
            gateways.append(server).append("\n        ");
            if (node.nodeId() != null) {
                nodeMap.append(node.nodeId())
                        .append(" tether_")
                        .append(node.nodeId())
                        .append(";\n        ");
                nodeUpstreams
                        .append("upstream tether_")
                        .append(node.nodeId())
                        .append(" { ")
                        .append(server);
                for (Node other : nodes) {
                    if (backups && !other.equals(node)) {
                        nodeUpstreams
                                .append(" server 127.0.0.1:")
                                .append(other.address().getPort())
                                .append(" backup;");
                    }
                }
                nodeUpstreams.append(" }\n    ");
            }
        }
        // Comment lines keep their placeholders: a filled-in list of several lines would leave the comment.
        StringBuilder config = new StringBuilder();
        for (String line : template.split("\n", -1)) {
            if (!line.strip().startsWith("#")) {
                line = line.replace("@LISTEN@", "127.0.0.1:" + listenPort)
                        .replace("@GATEWAYS@", gateways.toString().strip())
                        .replace("@NODE_MAP@", nodeMap.toString().strip())
                        .replace("@NODE_UPSTREAMS@", nodeUpstreams.toString().strip())
                        .replace("@READ_TIMEOUT@", readTimeout.toMillis() + "ms")
                        .replace("@ACCESS_LOG@", accessLog.toString());
            }
            config.append(line).append('\n');
        }
        return config.substring(0, config.length() - 1);
    }

    /**
     * Starts nginx in front of {@code gateway} (no node id) with {@code proxy_read_timeout}
     * {@code readTimeout}, on a free loopback port, and waits until it accepts connections.
     */
    public static Nginx start(Path dir, InetSocketAddress gateway, Duration readTimeout) throws IOException {
        return start(dir, List.of(new Node(null, gateway)), readTimeout);
    }

    /**
     * Starts nginx in front of {@code nodes}: all of them in the pool for new sessions, and those
     * with a node id in the node map and an upstream of their own, for resumes.
     */
    public static Nginx start(Path dir, List<Node> nodes, Duration readTimeout) throws IOException {
        return start(dir, nodes, readTimeout, false);
    }

    /** Like {@link #start(Path, List, Duration)}; with {@code backups}, as {@link #config(int, List, Duration, Path, boolean)}. */
    public static Nginx start(Path dir, List<Node> nodes, Duration readTimeout, boolean backups) throws IOException {
        assertTrue(Files.isExecutable(BINARY), BINARY + " is missing: install Debian's nginx-light (.ci/run does)");
        Files.createDirectories(dir.resolve("logs"));
        int port = freePort();
        Path conf = dir.resolve("nginx.conf");
        Files.writeString(
                conf,
                config(port, nodes, readTimeout, dir.resolve("logs/access.log"), backups),
                StandardCharsets.UTF_8);
        Path stderr = dir.resolve("logs/stderr.log");
        Process process = new ProcessBuilder(List.of(
                        BINARY.toString(),
                        "-p",
                        dir.toString(),
                        "-c",
                        conf.toString(),
                        "-e",
                        "stderr",
                        "-g",
                        "daemon off; pid " + dir.resolve("nginx.pid") + ";"))
                .redirectErrorStream(true)
                .redirectOutput(stderr.toFile())
                .start();
        Nginx nginx = new Nginx(process, dir, port);
        try {
            Poll.until("nginx accepts connections on " + port + " (" + stderr + ")", () -> {
                if (!process.isAlive()) {
                    throw new AssertionError("nginx exited with " + process.exitValue() + ": " + nginx.output());
                }
                return accepts(port);
            });
        } catch (RuntimeException | Error e) {
            nginx.close();
            throw e;
        }
        return nginx;
    }

    public int port() {
        return port;
    }

    /** {@code uri} with nginx's address in place of the gateway's. */
    public URI via(URI uri) {
        return URI.create(uri.getScheme() + "://127.0.0.1:" + port + uri.getRawPath()
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
    }

    /** What nginx wrote to stderr (its error log), for failure messages. */
    public String output() {
        try {
            return Files.readString(dir.resolve("logs/stderr.log"), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** SIGTERM (nginx's fast shutdown), then SIGKILL if it is still running after 10 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new IOException("interrupted while stopping nginx", e));
        }
    }
}
