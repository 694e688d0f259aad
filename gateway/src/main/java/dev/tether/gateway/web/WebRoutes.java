package dev.tether.gateway.web;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tether.gateway.config.AuthConfig;
import dev.tether.gateway.config.WebConfig;
import dev.tether.gateway.http.HttpRoutes;
import java.time.Clock;
import java.util.Map;

/**
 * Registers the browser-facing routes of the main listener, as the {@code web} section says:
 * <ul>
 *   <li>{@value #CLIENT_PATH}: the client library, always;
 *   <li>{@code /}, {@code /demo.js}, {@code /demo.css}: the demo page, with {@code web.demo_page};
 *   <li>{@code /dev/token}: development tokens, with {@code web.dev_tokens}.
 * </ul>
 * A route that is off is simply absent, so its path gets the listener's usual 404. Built once at
 * start-up (the assets are read from the class path here); thread-safe afterwards.
 */
public final class WebRoutes {

    public static final String CLIENT_PATH = "/client/tether-client.js";
    public static final String DEMO_PATH = "/";
    public static final String DEV_TOKEN_PATH = DevTokenEndpoint.PATH;

    /**
     * The demo page's policy: only its own scripts and styles, WebSockets to any host (the page may
     * be pointed at another gateway), never framed.
     */
    static final String DEMO_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private final WebConfig web;
    private final AuthConfig auth;
    private final ObjectMapper mapper;
    private final Clock clock;

    public WebRoutes(WebConfig web, AuthConfig auth, ObjectMapper mapper, Clock clock) {
        this.web = requireNonNull(web, "web");
        this.auth = requireNonNull(auth, "auth");
        this.mapper = requireNonNull(mapper, "mapper");
        this.clock = requireNonNull(clock, "clock");
    }

    /** Adds the enabled routes to {@code routes}; reads the assets now. */
    public HttpRoutes.Builder addTo(HttpRoutes.Builder routes) {
        requireNonNull(routes, "routes");
        routes.add(CLIENT_PATH, StaticAssets.file("tether-client.js", StaticAssets.JAVASCRIPT, Map.of()));
        if (web.demoPage()) {
            routes.add(
                    DEMO_PATH,
                    StaticAssets.file(
                            "index.html",
                            StaticAssets.HTML,
                            Map.of("Content-Security-Policy", DEMO_CSP, "Referrer-Policy", "no-referrer")));
            routes.add("/demo.js", StaticAssets.file("demo.js", StaticAssets.JAVASCRIPT, Map.of()));
            routes.add("/demo.css", StaticAssets.file("demo.css", StaticAssets.CSS, Map.of()));
        }
        if (web.devTokens()) {
            routes.add(DEV_TOKEN_PATH, new DevTokenEndpoint(mapper, auth, web, clock));
        }
        return routes;
    }
}
