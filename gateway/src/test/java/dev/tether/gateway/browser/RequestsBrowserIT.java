package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.testkit.TcpRelay;
import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WindowType;

/**
 * Requests to the user (contract 7.3) on the demo page, in headless Chromium against a real gateway
 * with demo-worker subprocesses: a message sent with "ask for approval" makes the worker ask; the
 * page shows the request with Approve and Deny, and the worker gets the answer once, whether it is
 * given at once, after a TCP reset and resume (the request comes back from
 * {@code session_ready.pending_requests}) or after a reload. A viewer sees the request and no buttons.
 */
class RequestsBrowserIT {

    /** The marker of this class's gateway: its demo workers carry it on their command line. */
    private static final String MARKER = "browser-requests";

    @RegisterExtension
    static final GatewayExtension gateway = DemoPage.gateway(MARKER, "");

    @RegisterExtension
    static final BrowserExtension browser = new BrowserExtension();

    @Test
    void approveButtonAnswersTheWorkerOnceAndTheTurnCompletes() {
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-approve");
        String id = page.sendAsking("clean the build");
        String requestId = id + "-ask-1";
        page.awaitApprovalButtons(requestId);
        page.screenshot("01-asked");
        assertEquals(0, page.workerEvents(id, "delta"), "the worker waits for the answer before it replies");

        page.approve(requestId);
        page.awaitDone(id);
        page.awaitRequestGone(requestId);
        page.screenshot("02-answered");

        assertEquals(List.of(Map.of("decision", "allow")), page.answers(requestId));
        assertEquals(List.of("answered"), page.outcomes(requestId));
        assertEquals(1, page.workerEvents(id, "result"));
        assertEquals("clean the build", page.reply(id));
        assertEquals(0, page.workerEventsOfType("response_seen"));
        page.assertSeqsContiguous();
    }

    @Test
    void aRequestPendingAcrossATcpResetIsShownAgainAndAnsweredOnce() throws Exception {
        try (TcpRelay relay = new TcpRelay(gateway.address())) {
            DemoPage page = DemoPage.open(browser, relay.via(base()), "sub=browser-ask-reset");
            String session = page.sessionId();
            String id = page.sendAsking("clean the build");
            String requestId = id + "-ask-1";
            page.awaitApprovalButtons(requestId);

            relay.reset();
            page.await(() -> "a second connection, open", d -> page.connections() >= 2 && "open".equals(page.state()));
            assertTrue(page.states().contains("reconnecting"), "states: " + page.states());
            assertEquals(session, page.sessionId(), "same session after the reset");
            // The page had processed the request frame, so the resume does not replay it: the card
            // after session_ready comes from its pending_requests.
            page.awaitApprovalButtons(requestId);
            assertEquals(List.of(requestId), page.requestIds());
            page.screenshot("01-resumed-still-asked");

            page.deny(requestId);
            page.awaitDone(id);
            page.awaitRequestGone(requestId);
            page.screenshot("02-denied");

            assertEquals(
                    List.of(Map.of("decision", "deny")), page.answers(requestId), "the worker got one answer: deny");
            assertEquals(1, page.workerEventsOfType("answer"));
            assertEquals(0, page.workerEventsOfType("response_seen"), "no second answer reached the worker");
            assertEquals(List.of("answered"), page.outcomes(requestId));
            assertEquals(1, page.workerEvents(id, "result"));
            page.assertSeqsContiguous();
        }
    }

    @Test
    void aReloadWhileARequestIsPendingShowsItAgainAndAnsweringWorks() {
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-ask-reload");
        String session = page.sessionId();
        String id = page.sendAsking("clean the build");
        String requestId = id + "-ask-1";
        page.awaitApprovalButtons(requestId);

        page.script("window.__beforeReload = true;");
        page.click("reload");
        page.await(
                () -> "the page reloaded and open again",
                d -> Boolean.TRUE.equals(page.script("return window.__beforeReload === undefined && !!window.tetherDemo"
                        + " && window.tetherDemo.client.state === 'open';")));
        assertEquals(session, page.sessionId(), "the reloaded page resumed the same session");
        page.awaitApprovalButtons(requestId);
        page.screenshot("01-reloaded-still-asked");

        page.approve(requestId);
        page.awaitDone(id);
        page.awaitRequestGone(requestId);
        page.screenshot("02-approved");
        assertEquals(List.of(Map.of("decision", "allow")), page.answers(requestId));
        assertEquals(0, page.workerEventsOfType("response_seen"));
        assertEquals(1, page.workerEvents(id, "result"));
        assertEquals(1, page.connections(), "the reloaded page opened one socket");
        page.assertSeqsContiguous();
    }

    @Test
    void aViewerSeesTheRequestWithoutButtonsUntilTheOwnerAnswers() {
        DemoPage owner = DemoPage.open(browser, base(), "sub=browser-ask-viewed");
        WebDriver driver = browser.driver();
        String link = driver.findElement(By.id("viewer-link")).getAttribute("href");
        String ownerWindow = driver.getWindowHandle();
        String id = owner.sendAsking("clean the build");
        String requestId = id + "-ask-1";
        owner.awaitApprovalButtons(requestId);

        driver.switchTo().newWindow(WindowType.TAB);
        try {
            DemoPage viewer = DemoPage.openUrl(browser, link);
            String viewerWindow = driver.getWindowHandle();
            viewer.await(
                    () -> "the viewer shows request " + requestId,
                    d -> viewer.requestIds().contains(requestId));
            assertEquals(List.of(), viewer.requestButtons(requestId), "a viewer cannot answer");
            viewer.screenshot("01-viewer-sees-the-request");

            driver.switchTo().window(ownerWindow);
            owner.approve(requestId);
            owner.awaitDone(id);

            driver.switchTo().window(viewerWindow);
            viewer.awaitRequestGone(requestId);
            viewer.awaitDone(id);
            assertEquals(List.of("answered"), viewer.outcomes(requestId));
        } finally {
            for (String handle : driver.getWindowHandles()) {
                if (!handle.equals(ownerWindow)) {
                    driver.switchTo().window(handle).close();
                }
            }
            driver.switchTo().window(ownerWindow);
        }
    }

    private static URI base() {
        return DemoPage.base(gateway);
    }
}
