package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.testkit.Poll;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The benchmark of docs/benchmarks.md, "Batched delivery": one session streaming about 1,000
 * events a second of about 100 bytes (the in-process echo worker: 1,000 deltas 1 ms apart per
 * turn, turn after turn) to the client library in headless Chromium, once with one message per
 * frame and once per {@code batch} value. For each run it reports frames and events per second
 * (counted in the page), the gateway's event-loop CPU per event ({@code ThreadMXBean}, the
 * {@code tether-io-*} threads: the gateway runs in this JVM) and the page's main-thread time per
 * second (DevTools protocol {@code Performance.getMetrics}: {@code TaskDuration} and
 * {@code ScriptDuration}).
 *
 * <p>Not part of {@code mvn verify} (its name ends in neither Test nor IT): timing belongs in a
 * benchmark, not a test. It only checks that every run delivered every event. Run it with
 * {@code mvn -o -pl testkit,protocol,gateway verify -Dtest=BatchedDeliveryBenchmark
 * -Dsurefire.failIfNoSpecifiedTests=false}; the table goes to the console and to
 * {@code gateway/target/batched-delivery-benchmark.md}.
 */
class BatchedDeliveryBenchmark {

    private static final int DELTAS = 1000;
    /** 40 characters per delta: an {@code event} frame of about 100 bytes. */
    private static final int TEXT_CHARS = DELTAS * 40;

    private static final int TURNS = Integer.getInteger("tether.bench.turns", 10);
    private static final List<Integer> BATCHES = List.of(0, 16, 50);
    private static final Duration DEADLINE = Duration.ofMinutes(3);

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withConfig("""
            worker:
              echo:
                deltas: 1000
                delta_interval: 1ms
            """);

    @RegisterExtension
    static final BrowserExtension browser = new BrowserExtension();

    /** One run's figures. */
    private record Run(
            int batch,
            long events,
            long frames,
            double seconds,
            double ioCpuMillis,
            double taskMillis,
            double scriptMillis) {

        String row() {
            return String.format(
                    Locale.ROOT,
                    "| %s | %.0f | %.0f | %.1f | %.1f | %.0f | %.0f | %.0f |",
                    batch == 0 ? "none" : batch + " ms",
                    events / seconds,
                    frames / seconds,
                    (double) events / frames,
                    ioCpuMillis * 1000 / events,
                    taskMillis / seconds,
                    scriptMillis / seconds,
                    taskMillis * 1000 / events);
        }
    }

    @Test
    void streamWithAndWithoutBatching() throws Exception {
        ChromeDriver driver = (ChromeDriver) browser.driver();
        List<String> rows = new ArrayList<>();
        rows.add("| batch | events/s | frames/s | events/frame | gateway loop CPU µs/event"
                + " | page main thread ms/s (TaskDuration) | of it script ms/s | page main thread µs/event |");
        rows.add("|---|---|---|---|---|---|---|---|");
        for (int batch : BATCHES) {
            Run run = run(driver, batch);
            assertEquals((long) TURNS * (DELTAS + 3), run.events(), "every history message of every turn");
            rows.add(run.row());
        }
        String table = String.join("\n", rows) + "\n\nload average at the end: "
                + ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage() + " on "
                + Runtime.getRuntime().availableProcessors() + " cores\n";
        System.out.println(table);
        Files.writeString(
                Path.of(System.getProperty("basedir", "."), "target", "batched-delivery-benchmark.md"),
                table,
                StandardCharsets.UTF_8);
    }

    private Run run(ChromeDriver driver, int batch) {
        driver.get("http://127.0.0.1:" + gateway.address().getPort() + "/healthz");
        JavascriptExecutor js = driver;
        String url = "ws://127.0.0.1:" + gateway.address().getPort() + "/ws";
        js.executeAsyncScript("""
                const [url, token, batch, turns, textChars, done] = arguments;
                import('/client/tether-client.js').then(({ TetherClient }) => {
                  const bench = { frames: 0, events: 0, turns: 0, ready: false };
                  window.bench = bench;
                  class CountingSocket extends WebSocket {
                    constructor(u, p) { super(u, p); this.addEventListener('message', () => { bench.frames++; }); }
                  }
                  const out = document.createTextNode('');
                  document.body.replaceChildren(out);
                  const text = 'x'.repeat(textChars);
                  const client = new TetherClient({
                    url, getToken: () => token, storage: null, WebSocket: CountingSocket,
                    ...(batch > 0 ? { batch } : {}),
                  });
                  const next = () => client.send({ text }, 'turn-' + bench.turns);
                  for (const type of ['event', 'status', 'notice']) {
                    client.addEventListener(type, (e) => {
                      bench.events++;
                      const event = e.detail.event;
                      if (event && event.type === 'delta') {
                        out.appendData(event.text); // what an app does with a delta: show it
                      }
                      if (type === 'status' && e.detail.state === 'idle' && bench.events > 1) {
                        bench.turns++;
                        out.data = '';
                        if (bench.turns < turns) { next(); }
                      }
                    });
                  }
                  client.addEventListener('ready', () => {
                    bench.ready = true;
                    bench.start = () => { bench.t0 = performance.now(); next(); };
                    done();
                  });
                  client.connect();
                });
                """, url, gateway.token("bench-" + batch), batch, TURNS, TEXT_CHARS);
        driver.executeCdpCommand("Performance.enable", Map.of());
        Map<String, Double> before = metrics(driver);
        long ioBefore = ioCpuNanos();
        long wallBefore = System.nanoTime();
        long framesBefore = number(js, "return window.bench.frames");
        js.executeScript("window.bench.start()");
        Poll.until(
                "the page saw " + TURNS + " turns", DEADLINE, () -> number(js, "return window.bench.turns") >= TURNS);
        double seconds = (System.nanoTime() - wallBefore) / 1e9;
        long ioCpu = ioCpuNanos() - ioBefore;
        Map<String, Double> after = metrics(driver);
        long frames = number(js, "return window.bench.frames") - framesBefore;
        long events = number(js, "return window.bench.events");
        js.executeScript("window.bench = null");
        return new Run(
                batch,
                events,
                frames,
                seconds,
                ioCpu / 1e6,
                (after.get("TaskDuration") - before.get("TaskDuration")) * 1000,
                (after.get("ScriptDuration") - before.get("ScriptDuration")) * 1000);
    }

    private static long number(JavascriptExecutor js, String script) {
        return ((Number) js.executeScript(script)).longValue();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Double> metrics(ChromeDriver driver) {
        Map<String, Object> answer = driver.executeCdpCommand("Performance.getMetrics", Map.of());
        Map<String, Double> metrics = new java.util.HashMap<>();
        for (Map<String, Object> metric : (List<Map<String, Object>>) answer.get("metrics")) {
            metrics.put((String) metric.get("name"), ((Number) metric.get("value")).doubleValue());
        }
        return metrics;
    }

    /** CPU time of the gateway's event loops so far (threads {@code tether-io-*} of this JVM). */
    private static long ioCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith("tether-io-")) {
                long cpu = threads.getThreadCpuTime(info.getThreadId());
                total += Math.max(0, cpu);
            }
        }
        return total;
    }
}
