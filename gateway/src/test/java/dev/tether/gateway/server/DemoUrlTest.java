package dev.tether.gateway.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The host in the printed demo page URL: one a browser on this machine can open. */
class DemoUrlTest {

    @Test
    void wildcardBindsPrintTheLoopbackAddress() {
        assertEquals("127.0.0.1", GatewayServer.browsableHost("0.0.0.0"));
        assertEquals("127.0.0.1", GatewayServer.browsableHost("::"));
    }

    @Test
    void otherHostsArePrintedAsBoundWithIpv6InBrackets() {
        assertEquals("127.0.0.1", GatewayServer.browsableHost("127.0.0.1"));
        assertEquals("gateway.local", GatewayServer.browsableHost("gateway.local"));
        assertEquals("[::1]", GatewayServer.browsableHost("::1"));
    }
}
