package dev.tether.loadtest.jmh;

import dev.tether.gateway.tls.TlsFiles;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The cost of TLS in the gateway, server side, with each provider ({@code server.tls.provider}):
 * the gateway's protocols and cipher suites ({@code TlsFiles}), a certificate made by
 * {@code keytool} at set-up (EC P-256 or RSA 2048), engines driven in memory on one thread, so the
 * figures are CPU time with no network in them.
 *
 * <ul>
 *   <li>{@link #handshake}: one full handshake (no session resumption) between a new server engine
 *       of {@code provider} and a new client engine (always BoringSSL, the cheaper, so that the
 *       provider rows differ by the server's cost); TLS 1.3 as both ends prefer it.
 *   <li>{@link #message}: on an established connection, the server encrypts one event frame's bytes
 *       (a WebSocket text frame of {@code payload} size: the {@code event} of a short delta, or
 *       4 KiB) and decrypts one from the client: what TLS adds to one message each way. The
 *       {@code plain} provider copies the same bytes through the same buffers: the floor.
 * </ul>
 *
 * <p>State is per thread; JMH runs it on its own threads.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TlsBenchmark {

    @Param({"openssl", "jdk", "plain"})
    public String provider;

    @Param({"ec", "rsa"})
    public String key;

    @Param({"small"})
    public String payload;

    private SslContext server;
    private SslContext client;
    private SSLEngine serverEngine;
    private SSLEngine clientEngine;
    private ByteBuffer app;
    private ByteBuffer net;
    private ByteBuffer out;
    private Path dir;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("tether-tls-bench-");
        KeyStore store = keytool(dir, key);
        PrivateKey privateKey = (PrivateKey) store.getKey("server", PASSWORD.toCharArray());
        X509Certificate certificate = (X509Certificate) store.getCertificate("server");
        if (!provider.equals("plain")) {
            server = serverContext(provider, privateKey, certificate);
            client = clientContext();
        }
        // The bytes of a frame as TLS sees them: opaque, of the size of a short event.
        byte[] frame = Payloads.of(payload).getBytes(StandardCharsets.UTF_8);
        app = ByteBuffer.allocateDirect(64 * 1024);
        net = ByteBuffer.allocateDirect(64 * 1024);
        out = ByteBuffer.allocateDirect(64 * 1024);
        app.put(frame).flip();
    }

    @Setup(Level.Iteration)
    public void connect() throws SSLException {
        if (server != null) {
            closeEngines();
            serverEngine = server.newEngine(ByteBufAllocator.DEFAULT);
            clientEngine = client.newEngine(ByteBufAllocator.DEFAULT);
            handshake(serverEngine, clientEngine);
        }
    }

    /** One full handshake between new engines. */
    @Benchmark
    public SSLEngine handshake() throws SSLException {
        if (server == null) {
            return null;
        }
        SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
        SSLEngine c = client.newEngine(ByteBufAllocator.DEFAULT);
        try {
            handshake(s, c);
            return s;
        } finally {
            ReferenceCountUtil.release(s);
            ReferenceCountUtil.release(c);
        }
    }

    /** One frame out (server encrypts, client decrypts) and one in (client encrypts, server decrypts). */
    @Benchmark
    public int message() throws SSLException {
        if (server == null) {
            net.clear();
            net.put(app.duplicate()).flip();
            out.clear();
            out.put(net).flip();
            net.clear();
            net.put(out).flip();
            out.clear();
            out.put(net);
            return out.position();
        }
        return through(serverEngine, clientEngine, app, net, out) + through(clientEngine, serverEngine, app, net, out);
    }

    /** {@code app}'s bytes wrapped by {@code from} into {@code net} and unwrapped by {@code to} into {@code out}. */
    static int through(SSLEngine from, SSLEngine to, ByteBuffer app, ByteBuffer net, ByteBuffer out)
            throws SSLException {
        net.clear();
        ByteBuffer source = app.duplicate();
        SSLEngineResult wrapped = from.wrap(source, net);
        if (wrapped.getStatus() != SSLEngineResult.Status.OK) {
            throw new SSLException("wrap: " + wrapped);
        }
        net.flip();
        out.clear();
        // Everything the record(s) hold; BoringSSL's server sends its session tickets with the first data.
        while (net.hasRemaining()) {
            SSLEngineResult unwrapped = to.unwrap(net, out);
            if (unwrapped.getStatus() != SSLEngineResult.Status.OK) {
                throw new SSLException("unwrap: " + unwrapped);
            }
        }
        if (out.position() != app.remaining()) {
            throw new SSLException("unwrap: " + out.position() + " bytes, expected " + app.remaining());
        }
        return out.position();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        closeEngines();
        ReferenceCountUtil.release(server);
        ReferenceCountUtil.release(client);
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
        }
        Files.deleteIfExists(dir);
    }

    private void closeEngines() {
        ReferenceCountUtil.release(serverEngine);
        ReferenceCountUtil.release(clientEngine);
        serverEngine = null;
        clientEngine = null;
    }

    /** A server context as the gateway builds one ({@code TlsFiles}' protocols and suites) with {@code provider}. */
    static SslContext serverContext(String provider, PrivateKey key, X509Certificate certificate) throws SSLException {
        return SslContextBuilder.forServer(key, certificate)
                .sslProvider(provider.equals("openssl") ? SslProvider.OPENSSL_REFCNT : SslProvider.JDK)
                .protocols(TlsFiles.PROTOCOLS)
                .ciphers(TlsFiles.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
                .build();
    }

    /** The client end of every measurement: BoringSSL, trusting any certificate (no verification cost to speak of). */
    static SslContext clientContext() throws SSLException {
        return SslContextBuilder.forClient()
                .sslProvider(SslProvider.OPENSSL_REFCNT)
                .trustManager(InsecureTrustManagerFactory.INSTANCE)
                .protocols(TlsFiles.PROTOCOLS)
                .build();
    }

    /** Drives both engines in memory until neither has anything left to do. */
    static void handshake(SSLEngine server, SSLEngine client) throws SSLException {
        ByteBuffer empty = ByteBuffer.allocate(0);
        ByteBuffer toServer = ByteBuffer.allocate(64 * 1024);
        ByteBuffer toClient = ByteBuffer.allocate(64 * 1024);
        ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
        client.beginHandshake();
        server.beginHandshake();
        for (int round = 0; round < 100; round++) {
            step(client, empty, toServer, toClient, sink);
            step(server, empty, toClient, toServer, sink);
            if (done(client) && done(server) && toServer.position() == 0 && toClient.position() == 0) {
                return;
            }
        }
        throw new SSLException("handshake did not finish: client " + client.getHandshakeStatus() + ", server "
                + server.getHandshakeStatus());
    }

    /** {@code engine} reads what was sent to it ({@code inbox}) and writes what it has to say ({@code outbox}). */
    private static void step(SSLEngine engine, ByteBuffer empty, ByteBuffer outbox, ByteBuffer inbox, ByteBuffer sink)
            throws SSLException {
        inbox.flip();
        while (inbox.hasRemaining()) {
            sink.clear();
            SSLEngineResult result = engine.unwrap(inbox, sink);
            runTasks(engine);
            if (result.getStatus() != SSLEngineResult.Status.OK || result.bytesConsumed() == 0) {
                break;
            }
        }
        inbox.compact();
        while (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
            SSLEngineResult result = engine.wrap(empty, outbox);
            runTasks(engine);
            if (result.getStatus() != SSLEngineResult.Status.OK) {
                throw new SSLException("wrap during the handshake: " + result);
            }
        }
        runTasks(engine);
        if (!done(engine) && inbox.position() == 0) {
            // BoringSSL's server finishes only on its next wrap (SslHandler's flush does the same).
            engine.wrap(empty, outbox);
            runTasks(engine);
        }
    }

    private static void runTasks(SSLEngine engine) {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private static boolean done(SSLEngine engine) {
        HandshakeStatus status = engine.getHandshakeStatus();
        return status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED;
    }

    static final String PASSWORD = "bench-store-password";

    /** A key store with a self-signed {@code server} certificate for localhost, made by the JDK's keytool. */
    static KeyStore keytool(Path dir, String key) throws Exception {
        Path store = dir.resolve("server.p12");
        List<String> algorithm = key.equals("rsa")
                ? List.of("-keyalg", "RSA", "-keysize", "2048")
                : List.of("-keyalg", "EC", "-groupname", "secp256r1");
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "server",
                "-dname",
                "CN=localhost",
                "-ext",
                "san=dns:localhost,ip:127.0.0.1",
                "-validity",
                "2",
                "-keystore",
                store.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                PASSWORD,
                "-noprompt"));
        command.addAll(algorithm);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException("keytool failed: " + output);
        }
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            keys.load(in, PASSWORD.toCharArray());
        }
        return keys;
    }
}
