package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The demo page in headless Chromium shows a session that sleeps without a worker (contract 1.2,
 * 8.9) as asleep, then waking on the next message, against a real gateway whose clock is a
 * {@link ManualClock} and real demo-worker subprocesses.
 */
class HibernationBrowserIT {

    private static final ManualClock clock = new ManualClock(Instant.now());

    @RegisterExtension
    static final GatewayExtension gateway = DemoPage.gateway("browser-hib", """
                    limits:
                      hibernate_after: 10m
                    """).withClock(clock);

    @RegisterExtension
    static final BrowserExtension browser = new BrowserExtension();

    @Test
    void theWorkerBadgeShowsAsleepThenWakingAndTheNextTurnGoesOn() {
        DemoPage page = DemoPage.open(browser, DemoPage.base(gateway), "sub=browser-hib");
        page.sendAndAwait("{\"text\":\"before the nap\",\"deltas\":2}");
        page.await(() -> "idle after the first turn", d -> "idle".equals(page.text("worker-state")));

        clock.advance(Duration.ofMinutes(10));
        page.await(() -> "the asleep badge", d -> "asleep".equals(page.text("worker-state")));
        assertEquals("hibernated", page.script("return window.tetherDemo.client.sessionState;"));
        page.screenshot("01-asleep");

        String woken = page.sendAndAwait("{\"text\":\"after the nap\",\"deltas\":2}");
        assertEquals("after the nap", page.reply(woken));
        assertTrue(
                page.text("transcript").contains("session waking"),
                "the page said the session was waking: " + page.text("transcript"));
        page.await(() -> "idle after the wake", d -> "idle".equals(page.text("worker-state")));
        page.assertSeqsContiguous();
    }
}
