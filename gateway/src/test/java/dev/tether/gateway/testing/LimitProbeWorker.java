package dev.tether.gateway.testing;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A hostile line worker ({@code worker.process.protocol: lines}) for the tests of the limits the
 * kernel enforces: {@code fork} starts {@code sleep} processes until the kernel refuses one and
 * says {@code forked N: <why>} (then ends them again), {@code files} opens {@code /dev/null} until
 * it is refused and says {@code opened N: <why>} (then closes them), {@code ping} says {@code pong}.
 */
public final class LimitProbeWorker {

    private static final int MOST = 100_000;

    private LimitProbeWorker() {}

    public static void main(String[] args) throws IOException, InterruptedException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            switch (line.strip()) {
                case "fork" -> fork();
                case "files" -> files();
                case "ping" -> System.out.println("pong");
                default -> System.out.println("unknown: " + line);
            }
            System.out.flush();
        }
    }

    private static void fork() throws InterruptedException {
        List<Process> children = new ArrayList<>();
        String why = "no limit within " + MOST;
        try {
            while (children.size() < MOST) {
                children.add(new ProcessBuilder("sleep", "600").start());
            }
        } catch (IOException e) {
            why = e.getMessage();
        } catch (OutOfMemoryError e) { // a thread the JVM needed for it could not be made
            why = "OutOfMemoryError: " + e.getMessage();
        }
        int forked = children.size();
        for (Process child : children) {
            child.destroyForcibly();
        }
        for (Process child : children) {
            child.waitFor(10, TimeUnit.SECONDS);
        }
        System.out.println("forked " + forked + ": " + why);
    }

    private static void files() throws IOException {
        List<FileInputStream> open = new ArrayList<>();
        String why = "no limit within " + MOST;
        try {
            while (open.size() < MOST) {
                open.add(new FileInputStream("/dev/null"));
            }
        } catch (IOException e) {
            why = e.getMessage();
        }
        int opened = open.size();
        for (FileInputStream file : open) {
            file.close();
        }
        System.out.println("opened " + opened + ": " + why);
    }
}
