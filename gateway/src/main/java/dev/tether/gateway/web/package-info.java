/**
 * What the main listener serves to browsers besides the WebSocket ({@code web} section): the
 * JavaScript client library at {@code /client/tether-client.js}, the demo page at {@code /} and the
 * development token endpoint {@code /dev/token}. {@link dev.tether.gateway.web.WebRoutes} registers
 * them; {@link dev.tether.gateway.web.StaticAssets} holds the files, read from the class path once at
 * start-up; {@link dev.tether.gateway.web.DevTokenEndpoint} signs development tokens. Everything
 * answers from memory on the connection's event loop. See docs/client.md.
 */
package dev.tether.gateway.web;
