package dev.tether.loadtest.compress;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tether.protocol.ServerMessage;
import dev.tether.protocol.WireCodec;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameEncoder;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionFilter;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionFilterProvider;
import io.netty.handler.codec.http.websocketx.extensions.compression.PerMessageDeflateServerExtensionHandshaker;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What permessage-deflate costs and saves on the gateway's side for an agent transcript: each line
 * of a Claude Code stream-json transcript becomes the {@code event} frame the gateway sends
 * (WireCodec), and every frame goes through Netty's WebSocket frame encoder, with Netty's
 * permessage-deflate encoder in front of it as the gateway negotiates it (threshold filter,
 * no-context-takeover or not, level). Prints, per setting, the bytes on the wire and the CPU time
 * of the thread per message, each as a ratio to sending uncompressed, all in one run.
 *
 * <p>Single-threaded: the one thread measures its own CPU time ({@link ThreadMXBean}).
 */
@Command(
        name = "deflate",
        mixinStandardHelpOptions = true,
        description =
                "Bytes on the wire and CPU per message of permessage-deflate for an agent transcript (docs/benchmarks.md)")
public final class DeflateCommand implements Callable<Integer> {

    /** The bundled transcript: three Claude Code turns (reads of source files, a test run, an edit, a grep). */
    static final String TRANSCRIPT = "claude-code-transcript.jsonl";

    @Option(
            names = "--transcript",
            paramLabel = "FILE",
            description = "stream-json lines to replay (default: the bundled Claude Code transcript)")
    Path transcript;

    @Option(
            names = "--repeat",
            defaultValue = "300",
            description = "times the transcript is replayed per setting for the CPU figure, after as many for warm-up"
                    + " (default: ${DEFAULT-VALUE})")
    int repeat;

    @Option(
            names = "--threshold",
            defaultValue = "256",
            description = "server.compression.threshold (default: ${DEFAULT-VALUE})")
    int threshold;

    /** One way of sending: uncompressed, or deflated at a level with or without context takeover. */
    record Setting(String name, boolean deflate, int level, boolean noContextTakeover) {}

    static final List<Setting> SETTINGS = List.of(
            new Setting("uncompressed (compression off)", false, 0, true),
            new Setting("level 1, no context takeover (defaults)", true, 1, true),
            new Setting("level 6, no context takeover", true, 6, true),
            new Setting("level 1, context takeover", true, 1, false),
            new Setting("level 6, context takeover", true, 6, false));

    @Override
    public Integer call() throws IOException {
        if (repeat < 1) {
            throw new IllegalArgumentException("--repeat: " + repeat + " (expected: >= 1)");
        }
        List<String> frames = frames(lines());
        long text = frames.stream()
                .mapToLong(f -> f.getBytes(StandardCharsets.UTF_8).length)
                .sum();
        System.out.printf(
                "%d event frames, %d bytes of JSON text (threshold %d B, %d replays per setting)%n%n",
                frames.size(), text, threshold, repeat);
        List<EmbeddedChannel> channels = SETTINGS.stream().map(this::channel).toList();
        try {
            long[] wire = new long[SETTINGS.size()];
            for (int s = 0; s < SETTINGS.size(); s++) {
                wire[s] = replay(channels.get(s), frames);
            }
            // Every setting is warmed up before any is measured, so none is measured while the JIT compiles another.
            for (EmbeddedChannel channel : channels) {
                cpuMicrosPerMessage(channel, frames);
            }
            double[] cpu = new double[SETTINGS.size()];
            for (int s = 0; s < SETTINGS.size(); s++) {
                cpu[s] = cpuMicrosPerMessage(channels.get(s), frames);
            }
            System.out.printf("%-42s %12s %8s %14s %8s%n", "setting", "wire bytes", "ratio", "CPU us/message", "ratio");
            for (int s = 0; s < SETTINGS.size(); s++) {
                System.out.printf(
                        "%-42s %12d %8.3f %14.2f %8.2f%n",
                        SETTINGS.get(s).name(), wire[s], (double) wire[s] / wire[0], cpu[s], cpu[s] / cpu[0]);
            }
        } finally {
            channels.forEach(EmbeddedChannel::finishAndReleaseAll);
        }
        return 0;
    }

    private List<String> lines() throws IOException {
        if (transcript != null) {
            return Files.readAllLines(transcript, StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.isBlank())
                    .toList();
        }
        return bundled();
    }

    /** The bundled transcript's lines. */
    static List<String> bundled() throws IOException {
        try (InputStream in = DeflateCommand.class.getResourceAsStream(TRANSCRIPT)) {
            if (in == null) {
                throw new IOException("missing resource " + TRANSCRIPT);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .lines()
                    .filter(l -> !l.isBlank())
                    .toList();
        }
    }

    /** Each line as the gateway sends a worker's output line: an {@code event} frame with its seq. */
    static List<String> frames(List<String> lines) {
        WireCodec codec = new WireCodec();
        List<String> frames = new ArrayList<>(lines.size());
        long seq = 1;
        for (String line : lines) {
            JsonNode event;
            try {
                event = codec.mapper().readTree(line);
            } catch (IOException e) {
                throw new IllegalArgumentException("not a JSON line: " + line, e);
            }
            frames.add(codec.encode(new ServerMessage.Event(seq++, event)));
        }
        return frames;
    }

    /** This thread's CPU time per message over {@code repeat} replays. */
    private double cpuMicrosPerMessage(EmbeddedChannel channel, List<String> frames) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long start = threads.getCurrentThreadCpuTime();
        for (int i = 0; i < repeat; i++) {
            replay(channel, frames);
        }
        return (threads.getCurrentThreadCpuTime() - start) / 1_000.0 / repeat / frames.size();
    }

    /** The server's side of one connection: the frame encoder, and the deflater in front of it when negotiated. */
    EmbeddedChannel channel(Setting setting) {
        if (!setting.deflate()) {
            return new EmbeddedChannel(new WebSocket08FrameEncoder(false));
        }
        int minimum = threshold;
        WebSocketExtensionFilterProvider filters = new WebSocketExtensionFilterProvider() {
            @Override
            public WebSocketExtensionFilter encoderFilter() {
                return frame -> frame.isFinalFragment() && frame.content().readableBytes() < minimum;
            }

            @Override
            public WebSocketExtensionFilter decoderFilter() {
                return WebSocketExtensionFilter.NEVER_SKIP;
            }
        };
        PerMessageDeflateServerExtensionHandshaker handshaker = new PerMessageDeflateServerExtensionHandshaker(
                setting.level(),
                false,
                PerMessageDeflateServerExtensionHandshaker.MAX_WINDOW_SIZE,
                true,
                true,
                filters,
                0);
        Map<String, String> offer = new HashMap<>();
        if (setting.noContextTakeover()) {
            offer.put("server_no_context_takeover", null);
        }
        return new EmbeddedChannel(
                new WebSocket08FrameEncoder(false),
                handshaker
                        .handshakeExtension(new WebSocketExtensionData("permessage-deflate", offer))
                        .newExtensionEncoder());
    }

    /** Sends every frame once; the bytes that would have been written to the socket. */
    private static long replay(EmbeddedChannel channel, List<String> frames) {
        long bytes = 0;
        for (String frame : frames) {
            channel.writeOutbound(new TextWebSocketFrame(frame));
            for (ByteBuf out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
                bytes += out.readableBytes();
                out.release();
            }
        }
        return bytes;
    }
}
