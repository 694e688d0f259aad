package dev.tether.loadtest.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tether.loadtest.audit.TurnModel;
import dev.tether.loadtest.token.TokenSource;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The upgrade URLs both load clients open: the run's own query ({@code batch=}) on every connection, to any node. */
class ClientSettingsTest {

    private static final TokenSource TOKENS = new TokenSource() {
        @Override
        public String token(int index, String subject) {
            return "token-of-" + subject;
        }

        @Override
        public boolean canMint() {
            return false;
        }
    };

    private static ClientSettings at(String uri) {
        return ClientSettings.plain(
                URI.create(uri), TOKENS, new RunStats(), 0, Duration.ofSeconds(1), TurnModel.echo(1));
    }

    @Test
    void withoutARunQueryANewSessionHasNoneAndAResumeHasItsOwn() {
        ClientSettings settings = at("ws://127.0.0.1:8080/ws");
        URI base = settings.uri();
        assertEquals(
                URI.create("ws://127.0.0.1:8080/ws"), settings.upgradeUri(base, base.getRawAuthority(), null, 0, null));
        assertEquals(
                URI.create("ws://127.0.0.1:8080/ws?session=S&last_seq=7&node=b"),
                settings.upgradeUri(base, base.getRawAuthority(), "S", 7, "b"));
    }

    @Test
    void aBatchAskedForGoesOnNewSessionsAndResumesToAnyNodeThroughAnyRelay() {
        ClientSettings settings = at("ws://127.0.0.1:8080/ws?batch=50");
        URI base = settings.uri();
        assertEquals(
                URI.create("ws://127.0.0.1:8080/ws?batch=50"),
                settings.upgradeUri(base, base.getRawAuthority(), null, 0, null));
        assertEquals(
                URI.create("ws://127.0.0.1:8080/ws?batch=50&session=S&last_seq=0"),
                settings.upgradeUri(base, base.getRawAuthority(), "S", 0, null));
        URI otherNode = URI.create("ws://127.0.0.2:9090/ws");
        assertEquals(
                URI.create("ws://127.0.0.1:4000/ws?batch=50&session=S&last_seq=3&node=b"),
                settings.upgradeUri(otherNode, "127.0.0.1:4000", "S", 3, "b"));
    }
}
