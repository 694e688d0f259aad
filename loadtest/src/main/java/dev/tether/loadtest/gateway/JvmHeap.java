package dev.tether.loadtest.gateway;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The used heap of another JVM, through the JDK's {@code jcmd} ({@code GC.heap_info}, after
 * {@code GC.run} when asked). Needs a JDK, not a bare JRE: without {@code jcmd} every reading says so.
 * Each call starts a short-lived {@code jcmd} process (about a third of a second of CPU), so callers
 * read the heap at moments that matter rather than at every sample. Thread-safe.
 */
public final class JvmHeap {

    /**
     * Used heap bytes, or null with the reason.
     *
     * @param usedBytes used heap in bytes, null when unknown
     * @param problem why it is unknown; null when known
     */
    public record Reading(Long usedBytes, String problem) {
        static Reading failed(String problem) {
            return new Reading(null, problem);
        }
    }

    private static final Pattern G1 = Pattern.compile("garbage-first heap[^\\n]*?, used (\\d+)K");
    private static final Pattern GENERATION =
            Pattern.compile("(?:PSYoungGen|ParOldGen|def new generation|tenured generation)[^\\n]*?, used (\\d+)K");
    private static final Pattern ZGC = Pattern.compile("ZHeap\\s+used (\\d+)M");
    private static final Pattern SHENANDOAH = Pattern.compile("(\\d+)([KMG]) used");
    private static final long TIMEOUT_SECONDS = 30;

    private JvmHeap() {}

    /** Used heap of {@code pid} now (no collection first). */
    public static Reading usedNow(long pid) {
        return run(pid, false);
    }

    /** Runs a full collection in {@code pid} ({@code GC.run}), then reads its used heap: the live set. */
    public static Reading forceGcAndRead(long pid) {
        return run(pid, true);
    }

    private static Reading run(long pid, boolean gcFirst) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        if (!Files.isExecutable(jcmd)) {
            return Reading.failed("no jcmd at " + jcmd + ": heap figures need a JDK, not a JRE");
        }
        if (gcFirst) {
            String problem = jcmd(jcmd, pid, "GC.run").problem();
            if (problem != null) {
                return Reading.failed(problem);
            }
        }
        Output info = jcmd(jcmd, pid, "GC.heap_info");
        if (info.problem() != null) {
            return Reading.failed(info.problem());
        }
        Long used = parseUsedBytes(info.text());
        return used == null
                ? Reading.failed("unrecognised GC.heap_info output: " + abbreviate(info.text()))
                : new Reading(used, null);
    }

    /** The used heap bytes in {@code GC.heap_info} text (G1, Parallel, Serial, ZGC, Shenandoah); null if not found. */
    static Long parseUsedBytes(String heapInfo) {
        requireNonNull(heapInfo, "heapInfo");
        Matcher m = G1.matcher(heapInfo);
        if (m.find()) {
            return Long.parseLong(m.group(1)) * 1024;
        }
        m = GENERATION.matcher(heapInfo);
        long sum = 0;
        boolean any = false;
        while (m.find()) {
            sum += Long.parseLong(m.group(1)) * 1024;
            any = true;
        }
        if (any) {
            return sum;
        }
        m = ZGC.matcher(heapInfo);
        if (m.find()) {
            return Long.parseLong(m.group(1)) * 1024 * 1024;
        }
        m = SHENANDOAH.matcher(heapInfo);
        if (heapInfo.contains("Shenandoah") && m.find()) {
            long unit = switch (m.group(2)) {
                case "K" -> 1024L;
                case "M" -> 1024L * 1024;
                default -> 1024L * 1024 * 1024;
            };
            return Long.parseLong(m.group(1)) * unit;
        }
        return null;
    }

    private record Output(String text, String problem) {}

    private static Output jcmd(Path jcmd, long pid, String command) {
        try {
            Process p = new ProcessBuilder(List.of(jcmd.toString(), Long.toString(pid), command))
                    .redirectErrorStream(true)
                    .start();
            // The output is small; reading it to the end also waits for the exit.
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Output(text, "jcmd " + command + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() != 0) {
                return new Output(
                        text, "jcmd " + pid + " " + command + " failed (" + p.exitValue() + "): " + abbreviate(text));
            }
            return new Output(text, null);
        } catch (IOException e) {
            return new Output("", "cannot run jcmd: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Output("", "interrupted while running jcmd");
        }
    }

    private static String abbreviate(String text) {
        String flat = text.strip().replace('\n', ' ');
        return flat.length() <= 200 ? flat : flat.substring(0, 200) + "...";
    }
}
