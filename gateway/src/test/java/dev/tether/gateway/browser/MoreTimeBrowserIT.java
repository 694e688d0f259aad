package dev.tether.gateway.browser;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.tether.gateway.testing.GatewayExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The demo page's "more time" button (contract 1.2, 8.3) in headless Chromium against a real
 * gateway with demo-worker subprocesses: a session that nears its end gets notice
 * {@code duration_warning} with the button; a click sends {@code extend}, the button is disabled,
 * the gateway answers {@code duration_extended}, and the client's {@code endsAt} moves by
 * {@code limits.extension}.
 */
class MoreTimeBrowserIT {

    /** The marker of this class's gateway: its demo workers carry it on their command line. */
    private static final String MARKER = "browser-more-time";

    private static final long EXTENSION_SECONDS = 3600;

    @RegisterExtension
    static final GatewayExtension gateway = DemoPage.gateway(MARKER, """
            limits:
              max_duration: 60s
              warning_ratio: 0.05        # duration_warning 3 s into the session
              max_extensions: 1
              extension: 1h
            """);

    @RegisterExtension
    static final BrowserExtension browser = new BrowserExtension();

    @Test
    void theMoreTimeButtonOfADurationWarningExtendsTheSession() {
        DemoPage page = DemoPage.open(browser, DemoPage.base(gateway), "sub=browser-more-time");
        long endsAt = endsAt(page);
        assertTrue(endsAt > 0, "session_ready carries ends_at");
        assertEquals(0, buttons().size(), "no button before the warning");

        page.await(
                () -> "a duration_warning with a more time button",
                d -> !buttons().isEmpty());
        WebElement more = buttons().get(0);
        assertEquals(1, page.noticeCount("duration_warning"));
        page.screenshot("01-warned");

        more.click();
        page.await(() -> "the button disabled once extend went out", d -> !more.isEnabled());
        page.await(() -> "notice duration_extended", d -> page.noticeCount("duration_extended") == 1);
        page.await(() -> "endsAt moved by the extension", d -> endsAt(page) == endsAt + EXTENSION_SECONDS);
        page.screenshot("02-extended");
        assertEquals("open", page.state(), "the session goes on");
        assertEquals(
                List.of(endsAt + EXTENSION_SECONDS),
                page.script(
                        new TypeReference<List<Long>>() {},
                        "return window.tetherDemo.notices.filter(n => n.code === 'duration_extended')"
                                + ".map(n => n.details.ends_at);"),
                "the notice names the new end");
        page.assertSeqsContiguous();
    }

    private static List<WebElement> buttons() {
        return browser.driver()
                .findElements(By.cssSelector("#notices .notice[data-code='duration_warning'] button.more-time"));
    }

    private static long endsAt(DemoPage page) {
        Object value = page.script("return window.tetherDemo.client.endsAt;");
        return value == null ? -1 : ((Number) value).longValue();
    }
}
