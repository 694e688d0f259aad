package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.agents.AnthropicStandIn;
import dev.tether.gateway.agents.ClaudeCodeCli;
import dev.tether.gateway.agents.RealCliGateways;
import dev.tether.gateway.agents.RecordedRequest;
import dev.tether.gateway.session.Session;
import dev.tether.gateway.testing.GatewayExtension;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The demo page in headless Chromium in front of the real Claude Code CLI (the pinned one, issue 21)
 * and a stand-in for its model API: a Bash approval shows as a card, Approve runs the tool once,
 * and after the worker is killed the conversation goes on in a new CLI started with
 * {@code --resume}, the model seeing the earlier turn.
 */
class RealClaudeBrowserIT {

    private static final String MARKER = "browser-real-claude";
    private static final AnthropicStandIn STAND_IN = AnthropicStandIn.start();
    private static final Path HOME = RealCliGateways.tempHome("browser-claude-home");

    /** Runs last (registered first): after the gateway has stopped, nothing of its workers is left. */
    @RegisterExtension
    @Order(1)
    static final AfterAllCallback noneLeft = RealCliGateways.noneLeft(HOME, MARKER);

    @RegisterExtension
    static final GatewayExtension gateway = RealCliGateways.gateway(
            MARKER, "claude-stream-json", ClaudeCodeCli::command, () -> ClaudeCodeCli.environment(STAND_IN, HOME), """
                    web:
                      demo_page: true
                      dev_tokens: true
                    """);

    @RegisterExtension
    static final BrowserExtension browser = new BrowserExtension();

    @AfterAll
    static void closeStandIn() {
        STAND_IN.close();
    }

    @Test
    void anApprovalOnThePageRunsTheToolOnceAndAResumedCliRemembersTheConversation() throws Exception {
        STAND_IN.reply(AnthropicStandIn.bash("echo approved > from-the-browser.txt"));
        STAND_IN.reply(AnthropicStandIn.text("the file is written"));
        DemoPage page = DemoPage.open(browser, base(), "sub=browser-claude");
        Session session = gateway.server().registry().get(page.sessionId()).orElseThrow();

        String first = page.send("write the file");
        page.await(() -> "an approval card", d -> !page.requestIds().isEmpty());
        String requestId = page.requestIds().get(0);
        page.awaitApprovalButtons(requestId);
        page.screenshot("01-claude-asks");
        Path file = RealCliGateways.workDir(session).resolve("from-the-browser.txt");
        assertFalse(Files.exists(file), "nothing runs before the answer");

        page.approve(requestId);
        page.awaitDone(first);
        page.awaitRequestGone(requestId);
        page.screenshot("02-approved");
        assertEquals(List.of("answered"), page.outcomes(requestId));
        assertEquals("the file is written", page.reply(first));
        assertEquals("approved\n", RealCliGateways.read(file), "the tool ran once, in the session's directory");

        // The worker dies: the next one is the CLI started with --resume, and the model sees the first turn.
        long killed = RealCliGateways.pid(session);
        ProcessHandle.of(killed).orElseThrow().destroyForcibly();
        page.await(
                () -> "a new worker",
                d -> session.currentWorker() != null
                        && session.currentWorker().pid().orElse(killed) != killed
                        && "idle".equals(page.text("worker-state")));
        STAND_IN.reply(AnthropicStandIn.text("you asked me to write the file"));
        String second = page.sendAndAwait("what did I ask you?");
        page.screenshot("03-resumed");
        assertEquals("you asked me to write the file", page.reply(second));
        List<RecordedRequest> requests = STAND_IN.modelRequests();
        RecordedRequest resumed = requests.get(requests.size() - 1);
        assertTrue(
                resumed.mentions("write the file") && resumed.mentions("the file is written"),
                "the resumed CLI sent the earlier turn to the model");
        String command = Files.readString(Path.of("/proc", Long.toString(RealCliGateways.pid(session)), "cmdline"));
        assertTrue(command.contains("\0--resume="), "the new worker resumed: " + command.replace('\0', ' '));
        assertEquals(0, STAND_IN.clear(), "every scripted reply was used");
        page.assertSeqsContiguous();
    }

    private static URI base() {
        return DemoPage.base(gateway);
    }
}
