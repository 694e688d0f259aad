package dev.tether.gateway.tls;

import static java.util.Objects.requireNonNull;

import io.netty.handler.ssl.SslContext;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HexFormat;
import javax.security.auth.x500.X500Principal;

/**
 * A certificate chain and key made into a context that new connections are served with, and what
 * the log and metrics say about it (never key material). Immutable.
 *
 * @param context what {@code SslHandler}s are made from
 * @param subject the leaf's subject, RFC 2253
 * @param notAfter the end of the leaf's validity
 * @param sha256 the SHA-256 fingerprint of the leaf's DER encoding, upper-case hex pairs joined by
 *     {@code :} (as {@code openssl x509 -fingerprint -sha256} prints it)
 */
public record ServedCertificate(SslContext context, String subject, Instant notAfter, String sha256) {

    public ServedCertificate {
        requireNonNull(context, "context");
        requireNonNull(subject, "subject");
        requireNonNull(notAfter, "notAfter");
        requireNonNull(sha256, "sha256");
    }

    static ServedCertificate of(SslContext context, X509Certificate leaf) {
        return new ServedCertificate(
                context,
                leaf.getSubjectX500Principal().getName(X500Principal.RFC2253),
                leaf.getNotAfter().toInstant(),
                fingerprint(leaf));
    }

    /** The SHA-256 fingerprint of {@code certificate}, in the form of {@link #sha256}. */
    public static String fingerprint(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("certificate cannot be encoded: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** {@code subject CN=..., not after 2027-..., SHA-256 AB:CD:...}, for the log. */
    public String describe() {
        return "subject " + subject + ", not after " + notAfter + ", SHA-256 " + sha256;
    }
}
