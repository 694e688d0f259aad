package dev.tether.gateway.agents;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The stdio of a fake CLI ({@link FakeClaudeCli}, {@link FakeCodexAppServer}): a daemon thread reads
 * stdin's JSON lines into {@link #in}, ending with {@link #EOF}; {@link #print} writes one JSON line
 * and flushes; {@link #out} is there for what is not a JSON line.
 */
final class FakeCliIo {

    /** What {@link #in} holds after the last line. */
    static final Object EOF = new Object();

    private static final ObjectMapper JSON = new ObjectMapper();

    final PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    final BlockingQueue<Object> in = new LinkedBlockingQueue<>();

    /** Starts reading stdin; {@code name} prefixes what goes wrong, on stderr. */
    FakeCliIo(String name) {
        Thread reader = new Thread(() -> read(name), "stdin");
        reader.setDaemon(true);
        reader.start();
    }

    void print(ObjectNode line) {
        out.println(line.toString());
        out.flush();
    }

    private void read(String name) {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (!line.isBlank()) {
                    in.put(JSON.readTree(line));
                }
            }
        } catch (IOException | InterruptedException e) {
            System.err.println(name + ": stdin: " + e);
        }
        in.add(EOF);
    }
}
