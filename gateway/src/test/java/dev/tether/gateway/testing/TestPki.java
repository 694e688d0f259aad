package dev.tether.gateway.testing;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A certificate authority made for one test, with the JDK's own {@code keytool} (run as a process):
 * an EC P-256 CA and leaf certificates it signs, for {@code localhost} and {@code 127.0.0.1},
 * written as the PEM files an operator would give the gateway (chain leaf first, PKCS#8 key).
 * Nothing is downloaded and nothing is shared between tests. Not thread-safe.
 */
public final class TestPki {

    private static final String PASSWORD = "test-store-password";
    private static final Path KEYTOOL = Path.of(System.getProperty("java.home"), "bin", "keytool");

    private final Path dir;
    private final Path store;
    private final X509Certificate ca;

    /** One issued certificate: its files and what a client sees of it. */
    public record Leaf(Path chainFile, Path keyFile, X509Certificate certificate, PrivateKey key) {

        /** The SHA-256 fingerprint of the leaf, as the gateway logs it (upper-case hex pairs joined by {@code :}). */
        public String sha256() {
            return fingerprint(certificate);
        }

        /**
         * The base64 SHA-256 of the leaf's SubjectPublicKeyInfo: what Chromium's
         * {@code --ignore-certificate-errors-spki-list} takes.
         */
        public String spkiSha256() {
            try {
                byte[] spki = certificate.getPublicKey().getEncoded();
                return Base64.getEncoder()
                        .encodeToString(MessageDigest.getInstance("SHA-256").digest(spki));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private TestPki(Path dir, Path store, X509Certificate ca) {
        this.dir = dir;
        this.store = store;
        this.ca = ca;
    }

    /** A new CA whose files go to {@code dir}. */
    public static TestPki create(Path dir) {
        requireNonNull(dir, "dir");
        Path store = dir.resolve("pki.p12");
        keytool(
                null,
                "-genkeypair",
                "-alias",
                "ca",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=Tether Test CA",
                "-ext",
                "bc:c",
                "-validity",
                "30",
                "-keystore",
                store.toString());
        X509Certificate ca = parse(keytool(null, "-exportcert", "-rfc", "-alias", "ca", "-keystore", store.toString()));
        TestPki pki = new TestPki(dir, store, ca);
        pki.write(dir.resolve("ca.pem"), pem("CERTIFICATE", ca));
        return pki;
    }

    /** The CA's certificate, PEM. */
    public Path caFile() {
        return dir.resolve("ca.pem");
    }

    public X509Certificate caCertificate() {
        return ca;
    }

    /** A server certificate valid from a day ago for 30 days. */
    public Leaf leaf(String name) {
        return leaf(name, "-1d", 31);
    }

    /**
     * A certificate for {@code localhost}/{@code 127.0.0.1} (server and client use), named
     * {@code name}, valid from {@code startDate} (keytool's form: {@code -1d}, {@code +10d}) for
     * {@code days}; its chain and key written to {@code <name>-chain.pem} and {@code <name>-key.pem}.
     */
    public Leaf leaf(String name, String startDate, int days) {
        keytool(
                null,
                "-genkeypair",
                "-alias",
                name,
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=" + name + ", O=Tether tests",
                "-validity",
                "1",
                "-keystore",
                store.toString());
        byte[] request = keytool(null, "-certreq", "-alias", name, "-keystore", store.toString());
        byte[] signed = keytool(
                request,
                "-gencert",
                "-alias",
                "ca",
                "-rfc",
                "-startdate",
                startDate,
                "-validity",
                Integer.toString(days),
                "-ext",
                "san=dns:localhost,ip:127.0.0.1",
                "-ext",
                "ku:c=digitalSignature",
                "-ext",
                "eku=serverAuth,clientAuth",
                "-keystore",
                store.toString());
        X509Certificate certificate = parse(signed);
        PrivateKey key;
        try {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                keys.load(in, PASSWORD.toCharArray());
            }
            key = (PrivateKey) keys.getKey(name, PASSWORD.toCharArray());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot read the key of " + name, e);
        }
        Path chain = dir.resolve(name + "-chain.pem");
        Path keyFile = dir.resolve(name + "-key.pem");
        write(chain, pem("CERTIFICATE", certificate) + pem("CERTIFICATE", ca));
        write(keyFile, pem("PRIVATE KEY", key.getEncoded()));
        return new Leaf(chain, keyFile, certificate, key);
    }

    /**
     * Puts {@code chain} and {@code key} at {@code chainTarget} and {@code keyTarget} as a careful
     * operator would: each written aside and renamed over the old one.
     */
    public static void install(Path chain, Path key, Path chainTarget, Path keyTarget) {
        copy(key, keyTarget);
        copy(chain, chainTarget);
    }

    private static void copy(Path from, Path to) {
        try {
            Path aside = to.resolveSibling(to.getFileName() + ".new");
            Files.copy(from, aside, StandardCopyOption.REPLACE_EXISTING);
            Files.move(aside, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A client context trusting this CA only; with {@code clientLeaf}, also presenting that certificate. */
    public SSLContext clientContext(Leaf clientLeaf) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", ca);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (clientLeaf != null) {
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                keys.setKeyEntry("client", clientLeaf.key(), PASSWORD.toCharArray(), new X509Certificate[] {
                    clientLeaf.certificate(), ca
                });
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, PASSWORD.toCharArray());
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client context trusting this CA, without a certificate of its own. */
    public SSLContext clientContext() {
        return clientContext(null);
    }

    /** The SHA-256 fingerprint of {@code certificate}, upper-case hex pairs joined by {@code :}. */
    public static String fingerprint(X509Certificate certificate) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
            return java.util.HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(String type, X509Certificate certificate) {
        try {
            return pem(type, certificate.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    private void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static X509Certificate parse(byte[] pem) {
        try {
            return (X509Certificate)
                    CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(pem));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(
                    "keytool wrote no certificate: " + new String(pem, StandardCharsets.UTF_8), e);
        }
    }

    /** Runs keytool with {@code stdin} (or none), returns its standard output; fails with its output on an error. */
    private static byte[] keytool(byte[] stdin, String... args) {
        List<String> command = new ArrayList<>();
        command.add(KEYTOOL.toString());
        command.addAll(List.of(args));
        command.addAll(List.of("-storepass", PASSWORD, "-storetype", "PKCS12", "-noprompt"));
        try {
            Process process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.PIPE)
                    .start();
            if (stdin != null) {
                process.getOutputStream().write(stdin);
            }
            process.getOutputStream().close();
            byte[] out = process.getInputStream().readAllBytes();
            byte[] err = process.getErrorStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("keytool " + String.join(" ", args) + " failed: "
                        + new String(out, StandardCharsets.UTF_8) + new String(err, StandardCharsets.UTF_8));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
