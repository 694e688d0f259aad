package dev.tether.loadtest.client;

import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.Session;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * Warms up this JVM's WebSocket client before a measurement of connect times: upgrades with a
 * token the gateway refuses (401), so that Tyrus, the handshake code and the JIT are warm while no
 * session is created and no worker is taken from the pool. Runs on the caller's thread.
 */
public final class ClientWarmup {

    private ClientWarmup() {}

    /** Makes {@code times} refused upgrades to {@code uri}; returns how many were answered 401. */
    public static int refusedUpgrades(URI uri, int times) {
        int refused = 0;
        for (int i = 0; i < times; i++) {
            ClientEndpointConfig config = ClientEndpointConfig.Builder.create()
                    .configurator(new ClientEndpointConfig.Configurator() {
                        @Override
                        public void beforeRequest(Map<String, List<String>> headers) {
                            headers.put("Authorization", List.of("Bearer not-a-token"));
                        }
                    })
                    .build();
            try {
                Session session = Wire.client()
                        .connectToServer(
                                new Endpoint() {
                                    @Override
                                    public void onOpen(Session s, EndpointConfig c) {
                                        // never: the gateway refuses the token
                                    }

                                    @Override
                                    public void onClose(Session s, CloseReason reason) {
                                        // nothing to do
                                    }
                                },
                                config,
                                uri);
                session.close();
            } catch (jakarta.websocket.DeploymentException | IOException | RuntimeException e) {
                if (Refusal.of(e).status() == 401) {
                    refused++;
                }
            }
        }
        return refused;
    }
}
