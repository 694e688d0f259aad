/**
 * TLS served by the gateway itself: the certificate and key files of {@code server.tls} read into a
 * Netty {@code SslContext} (BoringSSL through netty-tcnative, or the JDK's provider), checked for a
 * change off the event loops and swapped whole for new connections, and the admin listener's
 * optional client certificates ({@code admin.tls}).
 */
package dev.tether.gateway.tls;
