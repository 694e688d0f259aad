package dev.tether.loadtest.jmh;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code loadtest tls-cost}: the CPU time TLS costs the gateway, measured as the thread's own CPU
 * time ({@code ThreadMXBean}), not wall time, so that a machine shared with other work still gives
 * comparable figures; the providers take turns round after round, so that whatever else the machine
 * does falls on all of them alike. The same engines and settings as {@link TlsBenchmark}: a full
 * handshake (no resumption) between a server of each provider and a BoringSSL client, and a
 * message each way on an established connection; {@code plain} copies the message's bytes through
 * the same buffers. Prints one line per key type and provider. Runs on the command-line thread.
 */
@Command(
        name = "tls-cost",
        mixinStandardHelpOptions = true,
        description =
                "CPU per TLS handshake and per message, OpenSSL vs JDK vs plain, providers interleaved in one run.")
public final class TlsCostCommand implements Callable<Integer> {

    @Option(
            names = "--keys",
            split = ",",
            defaultValue = "ec,rsa",
            description = "certificate key types: ec (P-256), rsa (2048) (default: ${DEFAULT-VALUE})")
    List<String> keys;

    @Option(
            names = "--rounds",
            defaultValue = "6",
            description =
                    "measured rounds, each provider once per round, after one warm-up round (default: ${DEFAULT-VALUE})")
    int rounds;

    @Option(
            names = "--handshakes",
            defaultValue = "200",
            description = "handshakes per provider per round (default: ${DEFAULT-VALUE})")
    int handshakes;

    @Option(
            names = "--messages",
            defaultValue = "20000",
            description = "messages each way per provider per round (default: ${DEFAULT-VALUE})")
    int messages;

    @Option(
            names = "--message-bytes",
            defaultValue = "256",
            description = "bytes of each message, about an agent's event frame (default: ${DEFAULT-VALUE})")
    int messageBytes;

    private static final List<String> PROVIDERS = List.of("openssl", "jdk", "plain");
    private final ThreadMXBean cpu = ManagementFactory.getThreadMXBean();

    @Override
    public Integer call() throws Exception {
        if (messageBytes < 1 || messageBytes > 16 * 1024) {
            throw new IllegalArgumentException(
                    "--message-bytes: " + messageBytes + " (expected: 1..16384, one TLS record)");
        }
        byte[] frame = "x".repeat(messageBytes).getBytes(StandardCharsets.UTF_8);
        System.out.printf(
                Locale.ROOT,
                "TLS cost, CPU time of the measuring thread; %d rounds of %d handshakes and %d messages"
                        + " each way per provider, %d-byte messages%n",
                rounds,
                handshakes,
                messages,
                frame.length);
        System.out.printf(
                Locale.ROOT,
                "%-4s %-8s %18s %18s %12s %16s %12s%n",
                "key",
                "provider",
                "CPU us/handshake",
                "handshakes/s/core",
                "x openssl",
                "CPU us/message",
                "x openssl");
        SslContext client = TlsBenchmark.clientContext();
        try {
            for (String key : keys) {
                measure(key, client, frame);
            }
        } finally {
            ReferenceCountUtil.release(client);
        }
        return 0;
    }

    private void measure(String key, SslContext client, byte[] frame) throws Exception {
        Path dir = Files.createTempDirectory("tether-tls-cost-");
        KeyStore store = TlsBenchmark.keytool(dir, key);
        PrivateKey privateKey = (PrivateKey) store.getKey("server", TlsBenchmark.PASSWORD.toCharArray());
        X509Certificate certificate = (X509Certificate) store.getCertificate("server");
        Map<String, SslContext> servers = new LinkedHashMap<>();
        servers.put("openssl", TlsBenchmark.serverContext("openssl", privateKey, certificate));
        servers.put("jdk", TlsBenchmark.serverContext("jdk", privateKey, certificate));
        ByteBuffer app = ByteBuffer.allocateDirect(64 * 1024).put(frame).flip();
        ByteBuffer net = ByteBuffer.allocateDirect(64 * 1024);
        ByteBuffer out = ByteBuffer.allocateDirect(64 * 1024);
        Map<String, long[]> handshakeNanos = new LinkedHashMap<>();
        Map<String, long[]> messageNanos = new LinkedHashMap<>();
        for (String provider : PROVIDERS) {
            handshakeNanos.put(provider, new long[1]);
            messageNanos.put(provider, new long[1]);
        }
        try {
            for (int round = 0; round <= rounds; round++) {
                boolean counted = round > 0;
                for (String provider : PROVIDERS) {
                    SslContext server = servers.get(provider);
                    long handshakeCpu = server == null ? 0 : handshakes(server, client);
                    long messageCpu = messages(server, client, app, net, out);
                    if (counted) {
                        handshakeNanos.get(provider)[0] += handshakeCpu;
                        messageNanos.get(provider)[0] += messageCpu;
                    }
                }
            }
        } finally {
            servers.values().forEach(ReferenceCountUtil::release);
            try (var files = Files.list(dir)) {
                for (Path file : files.toList()) {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(dir);
        }
        double opensslHandshake = handshakeNanos.get("openssl")[0] / 1000.0 / ((double) rounds * handshakes);
        double opensslMessage = messageNanos.get("openssl")[0] / 1000.0 / ((double) rounds * messages);
        for (String provider : PROVIDERS) {
            boolean plain = provider.equals("plain");
            double handshake = handshakeNanos.get(provider)[0] / 1000.0 / ((double) rounds * handshakes);
            double message = messageNanos.get(provider)[0] / 1000.0 / ((double) rounds * messages);
            System.out.printf(
                    Locale.ROOT,
                    "%-4s %-8s %18s %18s %12s %16.2f %12.2f%n",
                    key,
                    provider,
                    plain ? "-" : String.format(Locale.ROOT, "%.0f", handshake),
                    plain ? "-" : String.format(Locale.ROOT, "%.0f", 1_000_000 / handshake),
                    plain ? "-" : String.format(Locale.ROOT, "%.2f", handshake / opensslHandshake),
                    message,
                    message / opensslMessage);
        }
    }

    /** CPU nanoseconds of {@link #handshakes} full handshakes. */
    private long handshakes(SslContext server, SslContext client) throws Exception {
        long start = cpu.getCurrentThreadCpuTime();
        for (int i = 0; i < handshakes; i++) {
            SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
            SSLEngine c = client.newEngine(ByteBufAllocator.DEFAULT);
            try {
                TlsBenchmark.handshake(s, c);
            } finally {
                ReferenceCountUtil.release(s);
                ReferenceCountUtil.release(c);
            }
        }
        return cpu.getCurrentThreadCpuTime() - start;
    }

    /** CPU nanoseconds of {@link #messages} messages each way on one connection (null server: plain copies). */
    private long messages(SslContext server, SslContext client, ByteBuffer app, ByteBuffer net, ByteBuffer out)
            throws Exception {
        SSLEngine s = null;
        SSLEngine c = null;
        if (server != null) {
            s = server.newEngine(ByteBufAllocator.DEFAULT);
            c = client.newEngine(ByteBufAllocator.DEFAULT);
            TlsBenchmark.handshake(s, c);
            // The first message carries BoringSSL's session tickets: not what a message costs.
            TlsBenchmark.through(s, c, app, net, out);
        }
        try {
            long start = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < messages; i++) {
                if (s == null) {
                    copy(app, net, out);
                    copy(app, net, out);
                } else {
                    TlsBenchmark.through(s, c, app, net, out);
                    TlsBenchmark.through(c, s, app, net, out);
                }
            }
            return cpu.getCurrentThreadCpuTime() - start;
        } finally {
            ReferenceCountUtil.release(s);
            ReferenceCountUtil.release(c);
        }
    }

    /** What a plain connection does with a message's bytes here: copies them out and in. */
    private static void copy(ByteBuffer app, ByteBuffer net, ByteBuffer out) {
        net.clear();
        net.put(app.duplicate()).flip();
        out.clear();
        out.put(net);
    }
}
