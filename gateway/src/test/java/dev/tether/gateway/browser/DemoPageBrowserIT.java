package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.worker.process.ProcessWorker;
import dev.tether.testkit.Poll;
import dev.tether.testkit.TcpRelay;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WindowType;

/**
 * The demo page and its client library in headless Chromium, against a real gateway with demo-worker
 * subprocesses: a streamed reply, a connection dropped in the middle of one (by the page's own
 * button, and by a TCP reset the browser did not ask for), a page reload in the middle of a
 * session, in-band token refresh, and a session ended on purpose by the page's "end session"
 * button. Every test is a new user, so tests never share a session.
 */
class DemoPageBrowserIT {

    /** Thirty words at 100 ms: a reply that is still streaming when the test cuts the connection. */
    private static final String SLOW_TEXT =
            IntStream.rangeClosed(1, 30).mapToObj(i -> "word" + i).collect(Collectors.joining(" "));

    private static final String SLOW_PROMPT = "{\"text\":\"" + SLOW_TEXT + "\",\"deltas\":30,\"delay_ms\":100}";
    /** Three deltas, then a turn that runs until something stops it: still running whenever the test acts. */
    private static final String HANGING_PROMPT =
            "{\"text\":\"a reply that never ends\",\"deltas\":3,\"delay_ms\":20,\"hang\":true}";

    /** The marker of this class's gateway: its demo workers carry it on their command line. */
    private static final String MARKER = "browser";

    @RegisterExtension
    static final GatewayExtension gateway = DemoPage.gateway(MARKER, """
            auth:
              refresh_lead: 18s          # a 20 s token (?ttl=20s) is asked to refresh 2 s after it was minted
            """);

    @RegisterExtension
    static final BrowserExtension browser = new BrowserExtension();

    @Test
    void sendAndStream() {
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-stream");
        page.screenshot("01-open");

        String id = page.sendAndAwait("{\"text\":\"one two three four five six\",\"deltas\":6,\"delay_ms\":20}");
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
        try (TcpRelay relay = new TcpRelay(gateway.address())) {
            // The page, and so its WebSocket, goes through the relay.
            DemoPage page = DemoPage.open(browser, relay.via(base()), "sub=browser-reset");
            String session = page.sessionId();

            String id = page.send(SLOW_PROMPT);
            page.awaitDeltas(id, 3);
            relay.reset();
            page.screenshot("01-reset");

            assertResumedAndCompletedOnce(page, session, id);
            page.screenshot("02-reply-done");
        }
    }

    @Test
    void reloadMidSessionResumesAndContinues() {
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-reload");
        String session = page.sessionId();
        String first = page.sendAndAwait("before the reload");
        // The worker's idle status follows the result: wait for it, so the reload comes between turns.
        page.await(() -> "a status after the first turn's result", d -> page.lastSeq() > page.lastSeqOf(first));
        long lastBeforeReload = page.lastSeq();
        page.screenshot("01-before-reload");

        page.reload();
        page.screenshot("02-reloaded");
        assertEquals(session, page.sessionId(), "the reloaded page resumed the same session");
        assertEquals(session, page.clientSessionId());

        String second = page.sendAndAwait("after the reload");
        page.screenshot("03-after-reload");
        assertEquals("after the reload", page.reply(second));
        assertEquals(1, page.workerEvents(second, "result"));
        // Whether the reloaded page shows the earlier turn depends on how far back its resume replays; never twice.
        assertTrue(page.workerEvents(first, "result") <= 1, "the turn from before the reload delivered at most once");
        assertTrue(page.turnCount(first) <= 1, "turns: " + page.turnIds());
        assertEquals(1, page.turnCount(second));
        page.assertSeqsContiguous();
        assertEquals(
                lastBeforeReload + 1,
                page.seqs().get(0),
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

        String id = page.sendAndAwait("still here");
        assertEquals("still here", page.reply(id));
        assertEquals(1, page.connections());
    }

    @Test
    void endButtonMidTurnEndsTheSessionStopsItsWorkerAndAReloadStartsANewSession() {
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-end");
        String session = page.sessionId();
        page.sendAndAwait("before the end");
        ProcessWorker worker = workerOf(session);
        long pid = worker.pid().getAsLong();
        Path workDir = worker.workDir();
        assertTrue(
                DemoWorkers.running(MARKER).contains(pid), "the session's worker is one of the gateway's demo workers");

        String hanging = page.send(HANGING_PROMPT);
        page.awaitDeltas(hanging, 3);
        page.click("end-session");
        page.await(() -> "the page shows the session ended", d -> page.endedReason() != null);
        page.screenshot("01-ended");

        assertEquals("client_end", page.endedReason());
        assertTrue(page.text("ended-text").contains("client_end"), page.text("ended-text"));
        assertEquals("closed", page.state());
        assertEquals("ended", page.text("worker-state"));
        Map<String, Object> ended = page.ended();
        assertEquals(session, ended.get("sessionId"));
        assertEquals("client_end", ended.get("reason"));
        assertEquals(
                page.lastSeq(),
                ((Number) ended.get("seq")).longValue(),
                "the page was given the status ended, and nothing after it");
        assertEquals(
                Map.of("state", "ended", "reason", "client_end"),
                page.script("const e = window.tetherDemo.events; return e[e.length - 1].event;"));
        assertEquals(0, page.workerEvents(hanging, "result"), "the running turn was cut short, not completed");
        page.assertSeqsContiguous();
        assertNull(page.storedSession(), "the tab no longer stores the session");
        assertNull(page.clientSessionId());

        Poll.until(
                "worker " + pid + " of the ended session is gone",
                DemoPage.DEADLINE,
                () -> DemoWorkers.running(MARKER),
                running -> !DemoWorkers.alive(pid) && !running.contains(pid));
        Poll.until("its working directory " + workDir + " is removed", DemoPage.DEADLINE, () -> !Files.exists(workDir));
        Poll.until(
                "the gateway no longer holds session " + session,
                DemoPage.DEADLINE,
                () -> gateway.server().registry().get(session).isEmpty());

        page.reload();
        page.screenshot("02-reloaded");
        String fresh = page.clientSessionId();
        assertNotEquals(session, fresh, "a reload after the end starts a new session");
        assertEquals(fresh, page.sessionId());
        assertNull(page.endedReason(), "the reloaded page shows no ended session");
        assertEquals(1, page.connections(), "no attempt to resume the ended session");

        String after = page.sendAndAwait("in the new session");
        page.screenshot("03-new-session");
        assertEquals("in the new session", page.reply(after));
        assertEquals(1L, page.seqs().get(0), "a new session's first seq");
        page.assertSeqsContiguous();

        // The other way on from an ended session: the button the ended panel offers.
        page.click("end-session");
        page.await(() -> "the second session ended", d -> "client_end".equals(page.endedReason()));
        page.click("start-new");
        page.await(
                () -> "a third session, open",
                d -> "open".equals(page.state())
                        && page.endedReason() == null
                        && page.clientSessionId() != null
                        && !fresh.equals(page.clientSessionId()));
        String third = page.sendAndAwait("in the third session");
        page.screenshot("04-started-anew");
        assertEquals("in the third session", page.reply(third));
    }

    /** The demo-worker process serving {@code sessionId} now. */
    private static ProcessWorker workerOf(String sessionId) {
        return Poll.present(
                "session " + sessionId + " has a worker",
                DemoPage.DEADLINE,
                () -> gateway.server()
                        .registry()
                        .get(sessionId)
                        .map(Session::currentWorker)
                        .flatMap(w -> w instanceof ProcessWorker p ? Optional.of(p) : Optional.empty()));
    }

    @Test
    void theViewerLinkOpensTheSessionReadOnlyInASecondPageThatSeesTheOwnersOutput() {
        DemoPage owner = DemoPage.open(browser, base(), "sub=browser-viewed");
        String session = owner.sessionId();
        assertEquals("owner", owner.text("role"));
        WebDriver driver = browser.driver();
        String link = driver.findElement(By.id("viewer-link")).getAttribute("href");
        assertTrue(link.contains("view=" + session), link);
        String ownerWindow = driver.getWindowHandle();
        driver.switchTo().newWindow(WindowType.TAB);
        try {
            DemoPage viewer = DemoPage.openUrl(browser, link);
            assertEquals(session, viewer.sessionId());
            assertEquals("viewer", viewer.text("role"));
            assertFalse(viewer.displayed("composer"), "a viewer page cannot send");
            String viewerWindow = driver.getWindowHandle();

            driver.switchTo().window(ownerWindow);
            String id = owner.send("{\"text\":\"seen by two pages\",\"deltas\":4,\"delay_ms\":20}");
            owner.awaitDone(id);

            driver.switchTo().window(viewerWindow);
            viewer.awaitDone(id);
            assertEquals("seen by two pages", viewer.reply(id));
            viewer.assertSeqsContiguous();
            viewer.screenshot("viewer");
        } finally {
            for (String handle : driver.getWindowHandles()) {
                if (!handle.equals(ownerWindow)) {
                    driver.switchTo().window(handle).close(); // later tests use one window
                }
            }
            driver.switchTo().window(ownerWindow);
        }
    }

    @Test
    void theForkButtonOpensANewSessionInATabOfItsOwnThatGoesOnFromThisOnesCheckpoint() {
        DemoPage parent = DemoPage.open(browser, base(), "sub=browser-forker");
        String session = parent.sessionId();
        String quick = "{\"text\":\"one\",\"deltas\":1,\"delay_ms\":0}";
        assertEquals(1, parent.resultTurn(parent.sendAndAwait(quick)));
        WebDriver driver = browser.driver();
        String parentWindow = driver.getWindowHandle();
        driver.findElement(By.id("fork")).click();
        try {
            String forkWindow =
                    Poll.until("the fork's tab", driver::getWindowHandles, handles -> handles.size() == 2).stream()
                            .filter(handle -> !handle.equals(parentWindow))
                            .findFirst()
                            .orElseThrow();
            driver.switchTo().window(forkWindow);
            DemoPage fork = DemoPage.current(browser);
            String forkId = fork.sessionId();
            assertNotEquals(session, forkId, "a fork is a new session");
            assertEquals(session, fork.text("fork-origin"));
            assertEquals(2, fork.resultTurn(fork.sendAndAwait(quick)), "the fork went on from the parent's turn 1");
            fork.screenshot("fork");

            fork.click("end-session"); // its worker goes back: the other tests share max_workers
            fork.await(
                    () -> "the fork ended",
                    d -> gateway.server().registry().get(forkId).isEmpty());

            driver.switchTo().window(parentWindow);
            assertEquals(session, parent.sessionId(), "the parent page keeps its session");
            assertEquals(2, parent.resultTurn(parent.sendAndAwait(quick)), "and its own count");
            parent.click("end-session");
            parent.await(
                    () -> "the parent ended",
                    d -> gateway.server().registry().get(session).isEmpty());
        } finally {
            for (String handle : driver.getWindowHandles()) {
                if (!handle.equals(parentWindow)) {
                    driver.switchTo().window(handle).close(); // later tests use one window
                }
            }
            driver.switchTo().window(parentWindow);
        }
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
        return DemoPage.base(gateway);
    }
}
