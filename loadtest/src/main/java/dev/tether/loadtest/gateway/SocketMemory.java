package dev.tether.loadtest.gateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernel memory a process's sockets hold now, as {@code ss -m} reports it (sock_diag): for each
 * TCP and Unix socket the process has open, the bytes allocated to its receive and send queues, its
 * forward allocation and its options ({@code skmem} fields {@code r}, {@code t}, {@code f}, {@code w},
 * {@code o}). The limits ({@code rb}, {@code tb}) are not memory and are not counted, nor is the
 * socket structure itself (slab). Needs {@code ss} (iproute2) and the right to see the process's
 * sockets (same user or root).
 *
 * @param sockets TCP and Unix sockets of the process
 * @param bytes   kernel memory their queues and options hold
 */
public record SocketMemory(int sockets, long bytes) {

    private static final Pattern OWNER = Pattern.compile("pid=(\\d+),");
    private static final Pattern FIELD = Pattern.compile("([rtfwo])(\\d+)");

    /** The sockets of {@code pid} now; empty when {@code ss} cannot be run or says nothing usable. */
    public static Optional<SocketMemory> of(long pid) {
        try {
            Process ss = new ProcessBuilder("ss", "-H", "-n", "-m", "-p", "-a", "-t", "-x")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!ss.waitFor(30, TimeUnit.SECONDS) || ss.exitValue() != 0) {
                ss.destroyForcibly();
                return Optional.empty();
            }
            return Optional.of(parse(out.lines().toList(), pid));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Sums the sockets of {@code pid} in {@code ss -H -n -m -p} output (a socket's line, then its {@code skmem} line). */
    static SocketMemory parse(List<String> lines, long pid) {
        int sockets = 0;
        long bytes = 0;
        boolean ours = false;
        for (String line : lines) {
            int skmem = line.indexOf("skmem:(");
            boolean socketLine = !line.isBlank() && !Character.isWhitespace(line.charAt(0));
            if (socketLine) {
                ours = owns(line, pid);
                if (ours) {
                    sockets++;
                }
            }
            if (skmem >= 0 && ours) {
                String fields = line.substring(skmem + "skmem:(".length(), line.indexOf(')', skmem));
                for (String field : fields.split(",", -1)) {
                    Matcher m = FIELD.matcher(field);
                    if (m.matches()) {
                        bytes += Long.parseLong(m.group(2));
                    }
                }
            }
        }
        return new SocketMemory(sockets, bytes);
    }

    private static boolean owns(String line, long pid) {
        Matcher m = OWNER.matcher(line);
        while (m.find()) {
            if (Long.parseLong(m.group(1)) == pid) {
                return true;
            }
        }
        return false;
    }
}
