package dev.tether.gateway.tls;

import io.netty.handler.ssl.SslContext;
import java.io.ByteArrayInputStream;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * Netty's own PEM readers, which {@code SslContext} keeps {@code protected}: PKCS#8 private keys,
 * encrypted ({@code BEGIN ENCRYPTED PRIVATE KEY}, PBES2 and the older PBE schemes) or not, and
 * certificate blocks with any text around them. Reached through this never-instantiated subclass so
 * that the gateway parses the files exactly as the context it builds from them would, instead of
 * keeping a second PEM parser. Stateless.
 */
abstract class PemFiles extends SslContext {

    private PemFiles() {}

    /** The private key in {@code pem}, decrypted with {@code password} (null when it is not encrypted). */
    static PrivateKey privateKey(byte[] pem, String password) throws Exception {
        return toPrivateKey(new ByteArrayInputStream(pem), password);
    }

    /** Every certificate in {@code pem}, in file order. */
    static X509Certificate[] certificates(byte[] pem) throws Exception {
        return toX509Certificates(new ByteArrayInputStream(pem));
    }
}
