package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.TcpProxy;
import java.net.URI;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The demo page and its client library in headless Chromium, against a real gateway with demo-worker
 * subprocesses: a streamed reply, a connection dropped in the middle of one (by the page's own
 * button, and by a TCP reset the browser did not ask for), a page reload in the middle of a
 * session, and in-band token refresh. Every test is a new user, so tests never share a session.
 */
class DemoPageBrowserIT {

    /** Thirty words at 100 ms: a reply that is still streaming when the test cuts the connection. */
    private static final String SLOW_TEXT = IntStream.rangeClosed(1, 30).mapToObj(i -> "word" + i).collect(Collectors.joining(" "));
    private static final String SLOW_PROMPT = "{\"text\":\"" + SLOW_TEXT + "\",\"deltas\":30,\"delay_ms\":100}";

    @RegisterExtension
    static final GatewayExtension gateway = DemoWorkers.gateway("browser", """
            web:
              demo_page: true
              dev_tokens: true
            auth:
              refresh_lead: 18s          # a 20 s token (?ttl=20s) is asked to refresh 2 s after it was minted
            pool:
              min_idle: 1
              max_workers: 8
            """);

    @RegisterExtension
    static final BrowserExtension browser = new BrowserExtension();

    @Test
    void sendAndStream() {
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-stream");
        page.screenshot("01-open");

        String id = page.send("{\"text\":\"one two three four five six\",\"deltas\":6,\"delay_ms\":20}");
        page.awaitDone(id);
        page.screenshot("02-reply-done");

        assertEquals("one two three four five six", page.reply(id));
        assertEquals(6, page.workerEvents(id, "delta"), "deltas given to the page");
        assertEquals(1, page.workerEvents(id, "result"), "results given to the page");
        page.assertSeqsContiguous();
        assertEquals(1L, page.seqs().get(0), "a new session's first seq");
        assertEquals(1, page.connections());
    }

    @Test
    void dropButtonMidStreamResumesTheSameSession() {
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-drop");
        String session = page.sessionId();

        String id = page.send(SLOW_PROMPT);
        page.awaitDeltas(id, 3);
        page.click("drop");
        page.screenshot("01-dropped");

        assertResumedAndCompletedOnce(page, session, id);
        page.screenshot("02-reply-done");
    }

    @Test
    void tcpResetMidStreamResumesTheSameSession() throws Exception {
        try (TcpProxy proxy = TcpProxy.to(gateway.address())) {
            // The page, and so its WebSocket, goes through the relay.
            DemoPage page = DemoPage.open(browser, proxy.via(base()), "sub=browser-reset");
            String session = page.sessionId();

            String id = page.send(SLOW_PROMPT);
            page.awaitDeltas(id, 3);
            proxy.dropAll();
            page.screenshot("01-reset");

            assertResumedAndCompletedOnce(page, session, id);
            page.screenshot("02-reply-done");
        }
    }

    @Test
    void reloadMidSessionResumesAndContinues() {
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-reload");
        String session = page.sessionId();
        String first = page.send("before the reload");
        page.awaitDone(first);
        // The worker's idle status follows the result: wait for it, so the reload comes between turns.
        page.await(() -> "a status after the first turn's result", d -> page.lastSeq() > page.lastSeqOf(first));
        long lastBeforeReload = page.lastSeq();
        page.screenshot("01-before-reload");

        // A marker on the old window object tells the reloaded page apart from the old one.
        page.script("window.__beforeReload = true;");
        page.click("reload");
        page.await(() -> "the page reloaded and open again",
                d -> Boolean.TRUE.equals(page.script("return window.__beforeReload === undefined && !!window.tetherDemo"
                        + " && window.tetherDemo.client.state === 'open';")));
        page.screenshot("02-reloaded");
        assertEquals(session, page.sessionId(), "the reloaded page resumed the same session");
        assertEquals(session, page.clientSessionId());

        String second = page.send("after the reload");
        page.awaitDone(second);
        page.screenshot("03-after-reload");
        assertEquals("after the reload", page.reply(second));
        assertEquals(1, page.workerEvents(second, "result"));
        // Whether the reloaded page shows the earlier turn depends on how far back its resume replays; never twice.
        assertTrue(page.workerEvents(first, "result") <= 1, "the turn from before the reload delivered at most once");
        assertTrue(page.turnCount(first) <= 1, "turns: " + page.turnIds());
        assertEquals(1, page.turnCount(second));
        page.assertSeqsContiguous();
        assertEquals(lastBeforeReload + 1, page.seqs().get(0),
                "the reloaded page resumed right after the last seq the old page processed: nothing twice, nothing skipped");
        assertEquals(1, page.connections(), "the reloaded page opened one socket");
    }

    @Test
    void shortLivedTokenIsRefreshedInBand() {
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-refresh&ttl=20s");
        page.await(() -> "two in-band refreshes", d -> page.refreshes() >= 2);
        page.screenshot("01-refreshed");
        assertEquals(1, page.connections(), "refreshing needed no new connection");
        assertFalse(page.states().contains("reconnecting"), "states: " + page.states());

        String id = page.send("still here");
        page.awaitDone(id);
        assertEquals("still here", page.reply(id));
        assertEquals(1, page.connections());
    }

    /**
     * After a cut: the page went through reconnecting back to open on the same session, and the reply
     * that was streaming completed once, with nothing delivered twice or skipped.
     */
    private static void assertResumedAndCompletedOnce(DemoPage page, String session, String id) {
        page.awaitDone(id);
        List<String> states = page.states();
        int reconnecting = states.indexOf("reconnecting");
        assertTrue(reconnecting >= 0, "states: " + states);
        assertTrue(states.subList(reconnecting, states.size()).contains("open"), "states: " + states);
        assertEquals("open", page.state());
        assertTrue(page.connections() >= 2, "a second socket was opened");
        assertEquals(session, page.sessionId(), "same session after the cut");
        assertEquals(session, page.clientSessionId());

        assertEquals(SLOW_TEXT, page.reply(id));
        assertEquals(1, page.workerEvents(id, "result"), "the reply completed exactly once");
        assertEquals(30, page.workerEvents(id, "delta"), "every delta once");
        assertEquals(1, page.turnCount(id));
        page.assertSeqsContiguous();
        assertEquals(0L, page.gapCount(), "no replay gap");
    }

    private static URI base() {
        return URI.create("http://127.0.0.1:" + gateway.address().getPort() + "/");
    }
}
