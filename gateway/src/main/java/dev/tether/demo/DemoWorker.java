package dev.tether.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tether.protocol.EchoText;
import java.io.BufferedOutputStream;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo worker shipped with Tether and run by the default config: a separate JVM speaking the
 * worker protocol (docs/workers.md) that stands in for a slow agent CLI. It waits
 * {@code DEMO_READY_DELAY} (e.g. {@code 1s}, {@code 250ms}; default 0) before saying {@code ready},
 * answers each message by streaming {@code delta} events and a {@code result} that carries the
 * session's turn count (kept across workers through checkpoints, contract 7.2), and misbehaves on
 * request (fields of the message's {@code data}: crash, hang, allocate memory, spawn a child, print
 * garbage, flood, ignore interrupt or shutdown ...; the table is in docs/workers.md).
 *
 * <p>Threads: a daemon thread reads stdin lines into a queue; everything else, output included,
 * runs on the main thread. Depends on the JDK and Jackson only.
 */
public final class DemoWorker {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Object EOF = new Object();
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m)?");
    private static final String[] GARBAGE = {"not json", "[1,2]", "42", "{\"broken\":", "\"a string\"", "null"};
    /** {@code spawn_child}: a child that sleeps for an hour. */
    private static final List<List<String>> SLEEP =
            List.of(List.of("sleep", "3600"), List.of("/bin/sleep", "3600"), List.of("/usr/bin/sleep", "3600"));
    /**
     * {@code spawn_stubborn_child}: a child that sleeps for an hour and ignores SIGTERM (an ignored
     * signal stays ignored across {@code exec}), so only SIGKILL ends it.
     */
    private static final List<List<String>> SLEEP_IGNORING_SIGTERM = List.of(
            List.of("sh", "-c", "trap '' TERM; exec sleep 3600"),
            List.of("/bin/sh", "-c", "trap '' TERM; exec sleep 3600"));

    private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final Deque<JsonNode> waiting = new ArrayDeque<>();
    private final OutputStream out = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16);
    private final List<Process> children = new ArrayList<>();
    private final List<byte[]> held = new ArrayList<>();
    private String sessionId;
    private String subject;
    private String workDir;
    private boolean ignoreShutdown;
    /** Turns finished in this session, across workers: continued from the {@code resume} checkpoint. */
    private long turns;
    /** Whether this worker continues another session's checkpoint as a fork (contract 1.2, 8.2): it counts on from it all the same. */
    private boolean forked;

    public static void main(String[] args) throws Exception {
        new DemoWorker().run();
    }

    private void run() throws Exception {
        Thread reader = new Thread(this::readStdin, "stdin");
        reader.setDaemon(true);
        reader.start();
        long delay = parseMillis(System.getenv("DEMO_READY_DELAY"));
        if (delay > 0) {
            Thread.sleep(delay); // stands in for a slow start-up; input waits in the inbox
        }
        emit(object("ready"));
        while (true) {
            JsonNode line = waiting.isEmpty() ? next(Long.MAX_VALUE) : waiting.poll();
            if (line != null && "message".equals(line.path("type").asText())) {
                turn(line.path("id").asText(), line.path("data"));
            } else if (line != null && "response".equals(line.path("type").asText())) {
                responseSeen(line);
            }
        }
    }

    /**
     * Takes the next input line within {@code timeoutMillis}, handling the lines that are not turns
     * on the spot: {@code session} is remembered, {@code shutdown} and end of input exit (unless
     * ignored), {@code interrupt} and {@code message} are returned. Null on timeout.
     */
    private JsonNode next(long timeoutMillis) throws Exception {
        long deadline =
                timeoutMillis == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + timeoutMillis * 1_000_000;
        while (true) {
            long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            Object item = deadline == Long.MAX_VALUE ? inbox.take() : inbox.poll(left, TimeUnit.NANOSECONDS);
            if (item == null) {
                return null;
            }
            if (item == EOF || "shutdown".equals(((JsonNode) item).path("type").asText())) {
                shutdown(item == EOF ? "end of input" : "shutdown");
                continue;
            }
            JsonNode line = (JsonNode) item;
            switch (line.path("type").asText()) {
                case "session" -> {
                    sessionId = line.path("session_id").asText(null);
                    subject = line.path("subject").asText(null);
                    workDir = line.path("work_dir").asText(null);
                    turns = line.path("resume").path("turns").asLong(0);
                    forked = line.path("fork").asBoolean(false);
                }
                case "message", "interrupt", "response" -> {
                    return line;
                }
                default -> System.err.println("demo worker: unknown input type: " + line.path("type"));
            }
        }
    }

    private void turn(String id, JsonNode data) throws Exception {
        if (data.has("stderr")) {
            System.err.println(data.path("stderr").asText());
            System.err.flush();
        }
        if (data.path("env").asBoolean()) {
            ObjectNode env = object("env")
                    .put("id", id)
                    .put("cwd", Path.of("").toAbsolutePath().toString());
            env.set("vars", JSON.valueToTree(new TreeMap<>(System.getenv())));
            emit(env);
        }
        if (data.path("whoami").asBoolean()) {
            emit(object("whoami")
                    .put("id", id)
                    .put("session_id", sessionId)
                    .put("subject", subject)
                    .put("work_dir", workDir)
                    .put("forked", forked));
        }
        if (data.path("spawn_child").asBoolean()) {
            Process child = spawnChild(SLEEP);
            children.add(child);
            emit(object("child").put("id", id).put("pid", child.pid()));
        }
        if (data.path("spawn_stubborn_child").asBoolean()) {
            Process child = spawnChild(SLEEP_IGNORING_SIGTERM);
            children.add(child);
            emit(object("child").put("id", id).put("pid", child.pid()).put("ignores_sigterm", true));
        }
        if (data.has("allocate_mb")) {
            allocate(id, data.path("allocate_mb").asInt());
        }
        if (data.has("write_mb")) {
            write(id, data.path("write_mb").asInt());
        }
        for (int i = 0; i < data.path("garbage").asInt(0); i++) {
            writeLine(GARBAGE[i % GARBAGE.length]);
        }
        if (data.has("huge_line_bytes")) {
            hugeLine(id, data.path("huge_line_bytes").asLong());
        }
        if (data.has("flood")) {
            flood(id, data.path("flood").asInt());
        }
        if (data.path("ignore_shutdown").asBoolean()) {
            ignoreShutdown();
        }
        boolean ignoreInterrupt = data.path("ignore_interrupt").asBoolean();
        for (int i = 1; i <= data.path("request_flood").asInt(0); i++) {
            request(id + "-flood-" + i, data.path("ask").isMissingNode() ? object("question") : data.path("ask"));
        }
        if (data.path("duplicate_request").asBoolean()) {
            request(id + "-dup", object("question"));
            request(id + "-dup", object("question"));
        }
        if (data.has("ask") && !data.has("request_flood")) {
            for (int k = 1; k <= Math.max(1, data.path("ask_count").asInt(1)); k++) {
                if (ask(id, id + "-ask-" + k, data.path("ask"), ignoreInterrupt, data)) {
                    return;
                }
            }
        }
        String text = EchoText.of(data);
        int deltas = Math.max(0, data.path("deltas").asInt(3));
        long delayMs = Math.max(0, data.path("delay_ms").asLong(20));
        int crashAfter =
                data.has("crash") ? Math.max(0, data.path("crash_after_deltas").asInt(0)) : -1;
        List<String> parts = EchoText.split(text, deltas);
        crashAfter = Math.min(crashAfter, parts.size());
        for (int i = 0; ; i++) {
            if (i == crashAfter) {
                out.flush();
                Runtime.getRuntime().halt(data.path("crash").asInt(1)); // no shutdown hooks, no clean-up
            }
            if (i == parts.size()) {
                break;
            }
            emit(object("delta").put("id", id).put("text", parts.get(i)));
            if (waitDuringTurn(id, delayMs, ignoreInterrupt, data)) {
                return;
            }
        }
        while (data.path("hang").asBoolean()) {
            if (waitDuringTurn(id, Long.MAX_VALUE, ignoreInterrupt, data)) {
                return;
            }
        }
        finish(object("result").put("id", id).put("text", text), data);
    }

    /**
     * Ends a turn: counts it, saves the count as a checkpoint (before the result, so that a worker
     * replaced right after the result has saved it) and sends {@code result} with {@code turn}.
     * {@code checkpoint_pad} (characters added to the checkpoint) and {@code bad_checkpoint} (a
     * checkpoint line without state) test the gateway's checks.
     */
    private void finish(ObjectNode result, JsonNode data) throws IOException {
        turns++;
        ObjectNode state = JSON.createObjectNode().put("turns", turns);
        if (data.has("checkpoint_pad")) {
            state.put("pad", "x".repeat(Math.max(0, data.path("checkpoint_pad").asInt())));
        }
        emit(
                data.path("bad_checkpoint").asBoolean()
                        ? object("checkpoint")
                        : (ObjectNode) object("checkpoint").set("state", state));
        emit(result.put("turn", turns));
    }

    private void request(String requestId, JsonNode request) throws IOException {
        ObjectNode line = object("request").put("request_id", requestId);
        line.set("request", request);
        emit(line);
    }

    /**
     * Asks the user {@code request} (contract 7.3) and waits for the gateway's {@code response},
     * taking other input meanwhile; the answer becomes an {@code answer} event. True when an
     * interrupt ended the turn (its result was sent).
     */
    private boolean ask(String id, String requestId, JsonNode request, boolean ignoreInterrupt, JsonNode data)
            throws Exception {
        request(requestId, request);
        while (true) {
            JsonNode line = next(Long.MAX_VALUE);
            String type = line.path("type").asText();
            if ("message".equals(type)) {
                waiting.add(line);
            } else if ("response".equals(type)
                    && requestId.equals(line.path("request_id").asText())) {
                ObjectNode answer = object("answer").put("id", id).put("request_id", requestId);
                for (String field : List.of("data", "timeout", "cancelled")) {
                    if (line.has(field)) {
                        answer.set(field, line.get(field));
                    }
                }
                emit(answer);
                return false;
            } else if ("response".equals(type)) {
                responseSeen(line);
            } else if (!ignoreInterrupt) {
                finish(object("result").put("id", id).put("interrupted", true), data);
                return true;
            }
        }
    }

    /** A response to no request waiting: reported, so that a test sees every answer the worker got. */
    private void responseSeen(JsonNode line) throws IOException {
        ObjectNode seen = object("response_seen")
                .put("request_id", line.path("request_id").asText());
        for (String field : List.of("data", "timeout", "cancelled")) {
            if (line.has(field)) {
                seen.set(field, line.get(field));
            }
        }
        emit(seen);
    }

    /** Waits, taking input meanwhile; true when an interrupt ended the turn (its result was sent). */
    private boolean waitDuringTurn(String id, long millis, boolean ignoreInterrupt, JsonNode data) throws Exception {
        long deadline = millis == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + millis * 1_000_000;
        while (true) {
            long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            JsonNode line = next(left);
            if (line == null) {
                return false;
            }
            if ("message".equals(line.path("type").asText())) {
                waiting.add(line); // one turn at a time: the next one starts after this one
            } else if ("response".equals(line.path("type").asText())) {
                responseSeen(line);
            } else if (!ignoreInterrupt) {
                finish(object("result").put("id", id).put("interrupted", true), data);
                return true;
            }
        }
    }

    private void shutdown(String why) throws IOException {
        if (ignoreShutdown) {
            System.err.println("demo worker: ignoring " + why);
            return;
        }
        // A well-behaved worker takes its children with it.
        for (Process child : children) {
            child.destroy();
        }
        for (Process child : children) {
            try {
                child.waitFor(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        out.flush();
        System.exit(0);
    }

    /** From now on the shutdown line and SIGTERM are ignored: only SIGKILL ends this process. */
    private void ignoreShutdown() {
        if (ignoreShutdown) {
            return;
        }
        ignoreShutdown = true;
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            CountDownLatch never = new CountDownLatch(1);
                            while (true) {
                                try {
                                    never.await();
                                } catch (InterruptedException e) {
                                    // Keep blocking: this hook never lets the JVM finish exiting.
                                }
                            }
                        },
                        "never-exit"));
    }

    /** Starts the first of {@code candidates} that can be started, its input a pipe, its output discarded. */
    private Process spawnChild(List<List<String>> candidates) throws IOException {
        IOException failure = null;
        for (List<String> command : candidates) {
            try {
                return new ProcessBuilder(command)
                        .redirectInput(ProcessBuilder.Redirect.PIPE)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
            } catch (IOException e) {
                failure = e;
            }
        }
        throw failure;
    }

    private void allocate(String id, int mb) throws IOException {
        int done = 0;
        try {
            for (; done < mb; done++) {
                byte[] block = new byte[1 << 20];
                for (int i = 0; i < block.length; i += 4096) {
                    block[i] = 1; // touch every page so that it becomes resident
                }
                held.add(block);
            }
            emit(object("allocated").put("id", id).put("mb", mb));
        } catch (OutOfMemoryError e) {
            emit(object("allocated").put("id", id).put("mb", done).put("error", "out of memory"));
        }
    }

    /** Writes {@code mb} MiB (not zeros, never sparse) to a file in the working directory, flushed to it as it goes. */
    private void write(String id, int mb) throws IOException {
        byte[] block = new byte[1 << 20];
        Arrays.fill(block, (byte) 'd');
        Path file = Path.of(workDir == null ? "." : workDir, "fill-" + Integer.toHexString(id.hashCode()));
        try (OutputStream fill = Files.newOutputStream(file)) {
            for (int i = 0; i < mb; i++) {
                fill.write(block);
            }
        }
        emit(object("written").put("id", id).put("mb", mb));
    }

    private void hugeLine(String id, long bytes) throws IOException {
        String head = "{\"type\":\"huge\",\"id\":" + JSON.writeValueAsString(id) + ",\"pad\":\"";
        out.write(head.getBytes(StandardCharsets.UTF_8));
        byte[] pad = new byte[8192];
        Arrays.fill(pad, (byte) 'x');
        for (long left = Math.max(0, bytes - head.length() - 2); left > 0; left -= pad.length) {
            out.write(pad, 0, (int) Math.min(pad.length, left));
        }
        out.write("\"}\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private void flood(String id, int lines) throws IOException {
        byte[] prefix = ("{\"type\":\"flood\",\"id\":" + JSON.writeValueAsString(id) + ",\"n\":")
                .getBytes(StandardCharsets.UTF_8);
        for (int n = 0; n < lines; n++) {
            out.write(prefix);
            out.write((n + "}\n").getBytes(StandardCharsets.US_ASCII));
        }
        out.flush();
    }

    private void readStdin() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    inbox.put(JSON.readTree(line));
                } catch (IOException e) {
                    System.err.println("demo worker: input is not JSON: " + e.getMessage());
                }
            }
        } catch (IOException | InterruptedException e) {
            System.err.println("demo worker: stdin: " + e);
        }
        inbox.add(EOF);
    }

    private ObjectNode object(String type) {
        return JSON.createObjectNode().put("type", type);
    }

    private void emit(ObjectNode event) throws IOException {
        out.write(JSON.writeValueAsBytes(event));
        out.write('\n');
        out.flush();
    }

    private void writeLine(String line) throws IOException {
        out.write(line.getBytes(StandardCharsets.UTF_8));
        out.write('\n');
        out.flush();
    }

    /** "1s", "250ms", "2m", "0" or a bare number of milliseconds; blank or absent is 0. */
    static long parseMillis(String text) {
        if (text == null || text.isBlank()) {
            return 0;
        }
        Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("DEMO_READY_DELAY: " + text + " (expected e.g. 1s, 250ms)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "ms" : m.group(2);
        return switch (unit) {
            case "s" -> n * 1000;
            case "m" -> n * 60_000;
            default -> n;
        };
    }
}
