package dev.tether.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tether.gateway.testing.GatewayExtension;
import dev.tether.gateway.testing.SessionClient;
import dev.tether.testkit.Poll;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code POST /admin/drain} on a gateway of its own (it stops that gateway): answered 202, and the
 * drain hook it is wired to runs, ending the live sessions and stopping the gateway.
 */
class AdminDrainIT {

    @RegisterExtension
    static final GatewayExtension gateway = GatewayExtension.withDefaults();

    @Test
    void drainIsAcceptedAndStopsTheGateway() throws Exception {
        try (SessionClient client = SessionClient.openIdle(gateway, "drained")) {
            AdminIT.Answer forbidden = AdminIT.call(gateway, "POST", "/admin/drain", gateway.token("drained"));
            assertEquals(403, forbidden.status(), "a non-admin cannot drain");

            AdminIT.Answer answer = AdminIT.call(gateway, "POST", "/admin/drain", AdminIT.adminToken(gateway));
            assertEquals(202, answer.status(), answer.raw());
            assertEquals("draining", answer.body().get("status").asText());

            // The real drain: the idle session ends at once, with 1001 (go away, reconnect elsewhere).
            client.untilTag("status:ended:shutdown");
            assertEquals(1001, client.ws.awaitCloseCode());
            gateway.server().closed().toCompletableFuture().get(Poll.DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
            assertTrue(gateway.server().registry().all().isEmpty());
        }
    }
}
