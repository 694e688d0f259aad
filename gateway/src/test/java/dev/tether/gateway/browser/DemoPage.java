package dev.tether.gateway.browser;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.testing.DemoWorkers;
import dev.tether.gateway.testing.GatewayExtension;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The gateway's demo page as the browser tests see it, through its documented contract only: the
 * element ids ({@code #conn-state}, {@code #session-id}, {@code #prompt}, {@code #send},
 * {@code #drop}, {@code #reload}, {@code #end-session}, {@code #ended-panel} with its
 * {@code data-reason}, {@code #transcript .turn}, {@code #notices .notice}, {@code #ask-approval},
 * the cards of pending requests {@code #requests .request[data-request-id]} with their
 * {@code button.approve} and {@code button.deny}) and the {@code window.tetherDemo} record ({@code events}, {@code states}, {@code refreshes},
 * {@code connections}, {@code ended}, {@code client}). Every wait is a condition polled until a deadline.
 */
final class DemoPage {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Deadline of every wait: generous for a loaded 2-core machine; a passing test never waits it out. */
    static final Duration DEADLINE = Duration.ofSeconds(30);

    private final BrowserExtension browser;
    private final WebDriver driver;

    private DemoPage(BrowserExtension browser) {
        this.browser = browser;
        this.driver = browser.driver();
    }

    /**
     * A gateway of demo workers marked {@code marker} that serves the demo page and dev tokens, with
     * a warm worker and room for a few sessions; {@code yaml} adds sections of its own.
     */
    static GatewayExtension gateway(String marker, String yaml) {
        return DemoWorkers.gateway(marker, """
                web:
                  demo_page: true
                  dev_tokens: true
                pool:
                  min_idle: 1
                  max_workers: 8
                """ + yaml);
    }

    /** Where {@code gateway} serves the demo page. */
    static URI base(GatewayExtension gateway) {
        return URI.create("http://127.0.0.1:" + gateway.address().getPort() + "/");
    }

    /** Loads {@code base} + {@code /?query} and waits until the page's client is open on a session. */
    static DemoPage open(BrowserExtension browser, URI base, String query) {
        requireNonNull(base, "base");
        DemoPage page = new DemoPage(browser);
        page.driver.get(base.resolve("/?" + query).toString());
        page.awaitState("open");
        page.await(() -> "a session id shown", d -> !page.sessionId().isEmpty());
        return page;
    }

    /** Loads {@code url} (a viewer link, say) in the driver's current window and waits until its client is open. */
    static DemoPage openUrl(BrowserExtension browser, String url) {
        DemoPage page = new DemoPage(browser);
        page.driver.get(url);
        page.awaitState("open");
        page.await(() -> "a session id shown", d -> !page.sessionId().isEmpty());
        return page;
    }

    /** The page in the driver's current window (a tab the page itself opened), once its client is open. */
    static DemoPage current(BrowserExtension browser) {
        DemoPage page = new DemoPage(browser);
        page.awaitState("open");
        page.await(() -> "a session id shown", d -> !page.sessionId().isEmpty());
        return page;
    }

    /** Whether the element {@code id} is shown. */
    boolean displayed(String id) {
        return driver.findElement(By.id(id)).isDisplayed();
    }

    // ---- what the page shows ----

    String state() {
        return text("conn-state");
    }

    String sessionId() {
        return text("session-id");
    }

    String text(String id) {
        return driver.findElement(By.id(id)).getText().trim();
    }

    /** The reply text of the turn {@code messageId}. */
    String reply(String messageId) {
        return turn(messageId).findElement(By.cssSelector(".reply")).getText().trim();
    }

    /** How many turns the transcript shows for {@code messageId}. */
    int turnCount(String messageId) {
        return driver.findElements(By.cssSelector("#transcript .turn[data-id='" + messageId + "']"))
                .size();
    }

    /** The {@code data-id} of every turn in the transcript, in order. */
    List<String> turnIds() {
        return driver.findElements(By.cssSelector("#transcript .turn")).stream()
                .map(t -> t.getAttribute("data-id"))
                .toList();
    }

    /** The reason the ended panel shows, or null while it is hidden (the session has not been ended). */
    String endedReason() {
        WebElement panel = driver.findElement(By.id("ended-panel"));
        return panel.isDisplayed() ? panel.getAttribute("data-reason") : null;
    }

    /** Notices shown with {@code data-code} {@code code}. */
    int noticeCount(String code) {
        return driver.findElements(By.cssSelector("#notices .notice[data-code='" + code + "']"))
                .size();
    }

    /** The request id of every pending request's card, in order. */
    List<String> requestIds() {
        return driver.findElements(By.cssSelector("#requests .request")).stream()
                .map(card -> card.getAttribute("data-request-id"))
                .toList();
    }

    /** The buttons on the card of request {@code requestId} (none on a viewer's page). */
    List<WebElement> requestButtons(String requestId) {
        return driver.findElements(By.cssSelector(requestCard(requestId) + " button"));
    }

    // ---- window.tetherDemo ----

    /** The seq of every item in {@code tetherDemo.events}, in delivery order. */
    List<Long> seqs() {
        return script(new TypeReference<List<Long>>() {}, "return window.tetherDemo.events.map(e => e.seq);");
    }

    /** {@code tetherDemo.states}, as state names. */
    List<String> states() {
        return script(
                new TypeReference<List<String>>() {},
                "return window.tetherDemo.states.map(s => typeof s === 'string' ? s : s.state);");
    }

    long refreshes() {
        return ((Number) script("return window.tetherDemo.refreshes;")).longValue();
    }

    long connections() {
        return ((Number) script("return window.tetherDemo.connections;")).longValue();
    }

    /** The last seq the page was given, or 0 before any. */
    long lastSeq() {
        List<Long> seqs = seqs();
        return seqs.isEmpty() ? 0 : seqs.get(seqs.size() - 1);
    }

    /** The seq of the result of {@code messageId}, or -1 before it arrived. */
    long lastSeqOf(String messageId) {
        return ((Number) script(
                        "const r = window.tetherDemo.events.find(e => e.event && e.event.id === arguments[0]"
                                + " && e.event.type === 'result'); return r ? r.seq : -1;",
                        messageId))
                .longValue();
    }

    /** How many {@code replay_gap}s the page was told of. */
    long gapCount() {
        return ((Number) script("return window.tetherDemo.gaps.length;")).longValue();
    }

    /** {@code tetherDemo.ended}: what the client's {@code ended} event said, or null. */
    Map<String, Object> ended() {
        return script(new TypeReference<Map<String, Object>>() {}, "return window.tetherDemo.ended;");
    }

    /** The client's stored {@code {sessionId, lastSeq}} as JSON text, or null when nothing is stored. */
    String storedSession() {
        return (String) script("return sessionStorage.getItem('tether.session');");
    }

    /** The client's own idea of its session id. */
    String clientSessionId() {
        return (String) script("return window.tetherDemo.client.sessionId;");
    }

    /** How many worker events of {@code type} (delta, result) for {@code messageId} the page was given. */
    long workerEvents(String messageId, String type) {
        return ((Number) script(
                        "return window.tetherDemo.events.filter(e => e.event && e.event.id === arguments[0]"
                                + " && e.event.type === arguments[1]).length;",
                        messageId,
                        type))
                .longValue();
    }

    /** The {@code turn} of the {@code result} the page was given for {@code messageId} (the demo worker counts turns). */
    long resultTurn(String messageId) {
        return ((Number) script(
                        "return window.tetherDemo.events.find(e => e.event && e.event.id === arguments[0]"
                                + " && e.event.type === 'result').event.turn;",
                        messageId))
                .longValue();
    }

    /** How many worker events of {@code type} (answer, response_seen, ...) the page was given, whatever their id. */
    long workerEventsOfType(String type) {
        return ((Number) script(
                        "return window.tetherDemo.events.filter(e => e.type === 'event' && e.event"
                                + " && e.event.type === arguments[0]).length;",
                        type))
                .longValue();
    }

    /** The {@code data} of every {@code answer} event the page was given for {@code requestId}, in order. */
    List<Map<String, Object>> answers(String requestId) {
        return script(
                new TypeReference<List<Map<String, Object>>>() {},
                "return window.tetherDemo.events.filter(e => e.type === 'event' && e.event"
                        + " && e.event.type === 'answer' && e.event.request_id === arguments[0]).map(e => e.event.data);",
                requestId);
    }

    /** The outcome of every {@code request_resolved} the page was given for {@code requestId}, in order. */
    List<String> outcomes(String requestId) {
        return script(
                new TypeReference<List<String>>() {},
                "return window.tetherDemo.events.filter(e => e.type === 'request_resolved'"
                        + " && e.event.request_id === arguments[0]).map(e => e.event.outcome);",
                requestId);
    }

    /** A short description of the page's state, for failure messages. */
    String describe() {
        try {
            Map<String, Object> state = script(new TypeReference<Map<String, Object>>() {}, """
                    const d = window.tetherDemo;
                    if (!d) return {tetherDemo: 'missing', url: location.href};
                    return {url: location.href, state: d.client && d.client.state, session: d.client && d.client.sessionId,
                            connections: d.connections, refreshes: d.refreshes, states: d.states,
                            seqs: d.events.map(e => e.seq), notices: d.notices,
                            pendingRequests: d.client && d.client.pendingRequests};
                    """);
            return state.toString();
        } catch (RuntimeException e) {
            return "(page state unreadable: " + e + ")";
        }
    }

    /**
     * Checks that the page was given every seq'd item once and in order: no seq twice, none
     * skipped, from the first it saw (a reloaded page starts from where its stored position was).
     */
    void assertSeqsContiguous() {
        List<Long> seqs = seqs();
        for (int i = 1; i < seqs.size(); i++) {
            if (seqs.get(i) != seqs.get(i - 1) + 1) {
                throw new AssertionError("seqs not contiguous at index " + i + ": " + seqs);
            }
        }
    }

    // ---- actions ----

    /** Sends {@code prompt} as {@link #send} does, and waits until its turn is done; returns its message id. */
    String sendAndAwait(String prompt) {
        String id = send(prompt);
        awaitDone(id);
        return id;
    }

    /** Presses the page's reload button and waits until the reloaded page's client is open. */
    void reload() {
        // A marker on the old window object tells the reloaded page apart from the old one.
        script("window.__beforeReload = true;");
        click("reload");
        await(
                () -> "the page reloaded and open again",
                d -> Boolean.TRUE.equals(script("return window.__beforeReload === undefined && !!window.tetherDemo"
                        + " && window.tetherDemo.client.state === 'open';")));
    }

    /** Types {@code prompt} and presses send; returns the message id of the new turn. */
    String send(String prompt) {
        int before = turnIds().size();
        WebElement input = driver.findElement(By.id("prompt"));
        input.clear();
        input.sendKeys(prompt);
        driver.findElement(By.id("send")).click();
        await(() -> "a new turn after sending " + prompt, d -> turnIds().size() > before);
        List<String> ids = turnIds();
        return ids.get(ids.size() - 1);
    }

    /** Like {@link #send}, with "ask for approval" ticked: the demo worker asks before it replies. */
    String sendAsking(String prompt) {
        WebElement ask = driver.findElement(By.id("ask-approval"));
        if (!ask.isSelected()) {
            ask.click();
        }
        String id = send(prompt);
        ask.click();
        return id;
    }

    /** Clicks Approve on the card of request {@code requestId}. */
    void approve(String requestId) {
        driver.findElement(By.cssSelector(requestCard(requestId) + " button.approve"))
                .click();
    }

    /** Clicks Deny on the card of request {@code requestId}. */
    void deny(String requestId) {
        driver.findElement(By.cssSelector(requestCard(requestId) + " button.deny"))
                .click();
    }

    void click(String id) {
        driver.findElement(By.id(id)).click();
    }

    Path screenshot(String step) {
        return browser.screenshot(step);
    }

    // ---- waits ----

    void awaitState(String state) {
        await(() -> "connection state " + state, d -> state.equals(stateOrNull()));
    }

    /** Waits until the turn {@code messageId} has its result. */
    void awaitDone(String messageId) {
        await(
                () -> "turn " + messageId + " done",
                d -> !d.findElements(By.cssSelector("#transcript .turn[data-id='" + messageId + "'][data-done='true']"))
                        .isEmpty());
    }

    /** Waits until the page has been given at least {@code n} deltas of {@code messageId}. */
    void awaitDeltas(String messageId, int n) {
        await(() -> n + " deltas of " + messageId, d -> workerEvents(messageId, "delta") >= n);
    }

    /** Waits until the card of request {@code requestId} shows Approve and Deny, enabled. */
    void awaitApprovalButtons(String requestId) {
        await(() -> "Approve and Deny on request " + requestId, d -> {
            List<WebElement> buttons = requestButtons(requestId);
            return buttons.size() == 2 && buttons.stream().allMatch(b -> b.isDisplayed() && b.isEnabled());
        });
    }

    /** Waits until the page shows no card for request {@code requestId}. */
    void awaitRequestGone(String requestId) {
        await(
                () -> "request " + requestId + " no longer shown",
                d -> !requestIds().contains(requestId));
    }

    /** Polls {@code condition} until it holds, failing after {@link #DEADLINE} with {@code what} and the page's state. */
    void await(Supplier<String> what, Function<WebDriver, Boolean> condition) {
        new WebDriverWait(driver, DEADLINE)
                .pollingEvery(Duration.ofMillis(50))
                .ignoring(StaleElementReferenceException.class) // an element replaced between finding and reading it
                .withMessage(() -> what.get() + "; page: " + describe())
                .until(condition);
    }

    private String stateOrNull() {
        List<WebElement> badges = driver.findElements(By.id("conn-state"));
        return badges.isEmpty() ? null : badges.get(0).getText().trim();
    }

    private static String requestCard(String requestId) {
        return "#requests .request[data-request-id='" + requestId + "']";
    }

    private WebElement turn(String messageId) {
        return driver.findElement(By.cssSelector("#transcript .turn[data-id='" + messageId + "']"));
    }

    Object script(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Runs {@code script} and reads what it returns as {@code type} (checked, not cast). */
    <T> T script(TypeReference<T> type, String script, Object... args) {
        return JSON.convertValue(script(script, args), type);
    }
}
