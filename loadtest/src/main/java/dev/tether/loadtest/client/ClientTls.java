package dev.tether.loadtest.client;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.glassfish.tyrus.client.ClientProperties;
import org.glassfish.tyrus.client.SslEngineConfigurator;

/**
 * What the load client trusts on {@code wss://} targets: the JVM's default CAs, the CA certificates
 * of {@code --ca-file}, or, with {@code --insecure}, any certificate for any host (a test gateway
 * with a throw-away certificate). One setting for the process, made on the main thread before any
 * connection ({@link #configure}); both clients read it: the Netty engine through {@link #netty()},
 * Tyrus through the property set on {@link Wire#client()}. Host names are checked unless insecure.
 */
public final class ClientTls {

    private static volatile SslContext netty;

    private ClientTls() {}

    /**
     * Sets what {@code wss://} connections trust from now on.
     *
     * @param caFile PEM CA certificates to trust instead of the JVM's, or null
     * @param insecure trust any certificate and skip the host name check
     * @throws IllegalArgumentException naming {@code --ca-file} when it cannot be read
     */
    public static void configure(Path caFile, boolean insecure) {
        if (caFile != null && insecure) {
            throw new IllegalArgumentException("--ca-file and --insecure: give one of them");
        }
        try {
            TrustManagerFactory trust = insecure ? InsecureTrustManagerFactory.INSTANCE : trustManagers(caFile);
            SslContextBuilder builder = SslContextBuilder.forClient().trustManager(trust);
            if (!insecure) {
                builder.endpointIdentificationAlgorithm("HTTPS");
            }
            netty = builder.build();
            SSLContext jdk = SSLContext.getInstance("TLS");
            jdk.init(null, trust.getTrustManagers(), null);
            SslEngineConfigurator tyrus = new SslEngineConfigurator(jdk, true, false, false);
            tyrus.setHostVerificationEnabled(!insecure);
            Wire.client().getProperties().put(ClientProperties.SSL_ENGINE_CONFIGURATOR, tyrus);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("--ca-file " + caFile + ": " + e.getMessage(), e);
        }
    }

    /** The engine's context for {@code wss://}: the JVM's CAs unless {@link #configure} said otherwise. */
    public static SslContext netty() {
        SslContext context = netty;
        if (context == null) {
            synchronized (ClientTls.class) {
                if (netty == null) {
                    try {
                        netty = SslContextBuilder.forClient()
                                .endpointIdentificationAlgorithm("HTTPS")
                                .build();
                    } catch (SSLException e) {
                        throw new IllegalStateException("no TLS client context: " + e.getMessage(), e);
                    }
                }
                context = netty;
            }
        }
        return context;
    }

    private static TrustManagerFactory trustManagers(Path caFile) throws IOException, GeneralSecurityException {
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (caFile == null) {
            factory.init((KeyStore) null);
            return factory;
        }
        Collection<? extends Certificate> certificates;
        try (InputStream in = Files.newInputStream(caFile)) {
            certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
        }
        if (certificates.isEmpty()) {
            throw new GeneralSecurityException("no PEM certificate in the file");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        List<X509Certificate> list = new ArrayList<>();
        for (Certificate certificate : certificates) {
            list.add((X509Certificate) certificate);
        }
        for (int i = 0; i < list.size(); i++) {
            store.setCertificateEntry("ca-" + i, list.get(i));
        }
        factory.init(store);
        return factory;
    }
}
