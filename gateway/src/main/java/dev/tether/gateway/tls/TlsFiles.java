package dev.tether.gateway.tls;

import static java.util.Objects.requireNonNull;

import dev.tether.gateway.config.GatewayConfig;
import dev.tether.gateway.config.TlsConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * The files one TLS context is built from (a certificate chain, its private key and, for the admin
 * listener's client certificates, a CA file), read together into a {@link Snapshot} and made into a
 * {@link ServedCertificate} only if everything in them holds: PEM that parses, a key that belongs to
 * the leaf certificate, every certificate of the chain valid now. What is wrong is reported as a
 * {@link BadFile} naming the config key, the file and the reason, never the content.
 *
 * <p>Every context speaks TLS 1.3 and 1.2 only, with {@link #CIPHERS} (AEAD suites with forward
 * secrecy). Immutable; reads files, so never call it on an event loop.
 *
 * @param chain {@code server.tls.cert_chain_file}
 * @param key {@code server.tls.private_key_file}
 * @param keyPassword the key's password, or null
 * @param clientCa {@code admin.tls.client_ca_file}: clients must present a certificate it signed; null
 *     for no client certificates
 * @param provider the TLS implementation contexts are built for
 */
public record TlsFiles(Path chain, Path key, String keyPassword, Path clientCa, SslProvider provider) {

    public static final String CHAIN_KEY = "server.tls.cert_chain_file";
    public static final String KEY_KEY = "server.tls.private_key_file";
    public static final String CLIENT_CA_KEY = "admin.tls.client_ca_file";

    /** The protocol versions served: no SSL, no TLS 1.0 or 1.1. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /**
     * The cipher suites offered, best first (Mozilla's "intermediate" set): TLS 1.3's three AEAD
     * suites, and for TLS 1.2 ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only. Those a
     * provider lacks are left out.
     */
    public static final List<String> CIPHERS = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    /** Files larger than this are refused unread: a chain of a few certificates is a few KiB. */
    static final int MAX_FILE_BYTES = 1024 * 1024;

    public TlsFiles {
        requireNonNull(chain, "chain");
        requireNonNull(key, "key");
        requireNonNull(provider, "provider");
    }

    /** The main listener's files ({@code server.tls}). */
    public static TlsFiles server(GatewayConfig config, SslProvider provider) {
        TlsConfig tls = config.server().tls();
        return new TlsFiles(tls.certChainFile(), tls.privateKeyFile(), tls.keyPassword(), null, provider);
    }

    /** The admin listener's: the server's certificate, and the client CA when {@code admin.tls.client_auth} is require. */
    public static TlsFiles admin(GatewayConfig config, SslProvider provider) {
        TlsFiles server = server(config, provider);
        Path ca = config.admin().tls().requiresClientCertificates()
                ? config.admin().tls().clientCaFile()
                : null;
        return new TlsFiles(server.chain, server.key, server.keyPassword, ca, provider);
    }

    /** A file that cannot be served from, and why; the message names neither key material nor password. */
    public static final class BadFile extends Exception {
        private static final long serialVersionUID = 1L;

        private final String configKey;
        private final transient Path file;
        private final String reason;

        BadFile(String configKey, Path file, String reason) {
            super(configKey + ": " + file + " (" + reason + ")", null, false, false);
            this.configKey = configKey;
            this.file = file;
            this.reason = reason;
        }

        /** The dotted config key that names the file. */
        public String configKey() {
            return configKey;
        }

        public Path file() {
            return file;
        }

        public String reason() {
            return reason;
        }
    }

    /** A file's state as far as a change matters; null content when it could not be read. */
    record Stamp(long size, long modified, String sha256) {}

    /** The files as read at one moment: their stamps (what a change is detected by) and contents. */
    record Snapshot(List<Stamp> stamps, List<byte[]> contents, List<String> problems) {}

    /** Reads every file once, attributes before content (a write in between shows as a change next time). */
    Snapshot read() {
        List<Stamp> stamps = new ArrayList<>(3);
        List<byte[]> contents = new ArrayList<>(3);
        List<String> problems = new ArrayList<>(3);
        for (Path file : files()) {
            try {
                long size = Files.size(file);
                long modified = Files.getLastModifiedTime(file).toMillis();
                if (size > MAX_FILE_BYTES) {
                    throw new IOException("larger than " + MAX_FILE_BYTES + " bytes");
                }
                byte[] bytes = Files.readAllBytes(file);
                stamps.add(new Stamp(size, modified, sha256(bytes)));
                contents.add(bytes);
                problems.add(null);
            } catch (NoSuchFileException e) {
                stamps.add(new Stamp(-1, -1, null));
                contents.add(null);
                problems.add("no such file");
            } catch (IOException e) {
                stamps.add(new Stamp(-1, -1, null));
                contents.add(null);
                problems.add("cannot be read: " + e.getMessage());
            }
        }
        return new Snapshot(List.copyOf(stamps), contents, problems);
    }

    private List<Path> files() {
        return clientCa == null ? List.of(chain, key) : List.of(chain, key, clientCa);
    }

    private static final String[] KEYS = {CHAIN_KEY, KEY_KEY, CLIENT_CA_KEY};

    /** What the file named by {@code configKey} must be, for a start-up error. */
    static String expected(String configKey) {
        return switch (configKey) {
            case CHAIN_KEY -> "a readable PEM certificate chain, leaf first, every certificate valid now";
            case KEY_KEY -> "a readable PEM PKCS#8 private key of the chain's first certificate";
            case CLIENT_CA_KEY -> "a readable PEM file of CA certificates";
            default -> "a usable file";
        };
    }

    /**
     * The context {@code snapshot} makes, checked as a whole at {@code now}.
     *
     * @throws BadFile the first thing wrong, naming its key and file
     */
    ServedCertificate build(Snapshot snapshot, Instant now) throws BadFile {
        List<Path> files = files();
        for (int i = 0; i < files.size(); i++) {
            if (snapshot.problems().get(i) != null) {
                throw new BadFile(KEYS[i], files.get(i), snapshot.problems().get(i));
            }
        }
        X509Certificate[] certificates =
                certificates(CHAIN_KEY, chain, snapshot.contents().get(0));
        for (X509Certificate certificate : certificates) {
            checkValid(certificate, now);
        }
        PrivateKey privateKey = privateKey(snapshot.contents().get(1));
        if (!belongTogether(privateKey, certificates[0].getPublicKey())) {
            throw new BadFile(
                    KEY_KEY,
                    key,
                    "the private key does not belong to the first certificate of " + chain + " ("
                            + describe(certificates[0]) + ")");
        }
        X509Certificate[] authorities = clientCa == null
                ? null
                : certificates(CLIENT_CA_KEY, clientCa, snapshot.contents().get(2));
        SslContextBuilder builder = SslContextBuilder.forServer(privateKey, certificates)
                .sslProvider(provider)
                .protocols(PROTOCOLS)
                .ciphers(CIPHERS, SupportedCipherSuiteFilter.INSTANCE);
        if (authorities != null) {
            builder.trustManager(authorities).clientAuth(ClientAuth.REQUIRE);
        }
        SslContext context;
        try {
            context = builder.build();
        } catch (SSLException | RuntimeException e) {
            throw new BadFile(CHAIN_KEY, chain, "no TLS context can be made of it and " + key + ": " + e.getMessage());
        }
        return ServedCertificate.of(context, certificates[0]);
    }

    private static X509Certificate[] certificates(String configKey, Path file, byte[] pem) throws BadFile {
        String text = new String(pem, StandardCharsets.US_ASCII);
        if (text.contains("PRIVATE KEY-----")) {
            throw new BadFile(configKey, file, "holds a private key (expected: PEM certificates only)");
        }
        if (!text.contains("-----BEGIN CERTIFICATE-----")) {
            throw new BadFile(
                    configKey, file, "no -----BEGIN CERTIFICATE----- block (expected: PEM certificates, leaf first)");
        }
        try {
            X509Certificate[] certificates = PemFiles.certificates(pem);
            if (certificates.length == 0) {
                throw new BadFile(configKey, file, "no certificate found");
            }
            return certificates;
        } catch (BadFile e) {
            throw e;
        } catch (Exception e) {
            throw new BadFile(configKey, file, "not a valid PEM certificate: " + e.getMessage());
        }
    }

    private void checkValid(X509Certificate certificate, Instant now) throws BadFile {
        try {
            certificate.checkValidity(Date.from(now));
        } catch (CertificateExpiredException e) {
            throw new BadFile(
                    CHAIN_KEY,
                    chain,
                    "certificate " + describe(certificate) + " expired at "
                            + certificate.getNotAfter().toInstant() + " (now " + now + ")");
        } catch (CertificateNotYetValidException e) {
            throw new BadFile(
                    CHAIN_KEY,
                    chain,
                    "certificate " + describe(certificate) + " is not valid before "
                            + certificate.getNotBefore().toInstant() + " (now " + now + ")");
        }
    }

    private PrivateKey privateKey(byte[] pem) throws BadFile {
        String text = new String(pem, StandardCharsets.US_ASCII);
        if (text.contains("-----BEGIN RSA PRIVATE KEY-----") || text.contains("-----BEGIN EC PRIVATE KEY-----")) {
            throw new BadFile(
                    KEY_KEY,
                    key,
                    "a PKCS#1 or SEC1 key (expected: PKCS#8, -----BEGIN PRIVATE KEY-----; "
                            + "convert with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem)");
        }
        if (!text.contains("PRIVATE KEY-----")) {
            throw new BadFile(
                    KEY_KEY, key, "no -----BEGIN PRIVATE KEY----- block (expected: a PEM PKCS#8 private key)");
        }
        boolean encrypted = text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        if (encrypted && keyPassword == null) {
            throw new BadFile(KEY_KEY, key, "the key is encrypted and no password is set (TETHER_TLS_KEY_PASSWORD)");
        }
        try {
            return PemFiles.privateKey(pem, encrypted ? keyPassword : null);
        } catch (Exception e) {
            String why = encrypted
                    ? "cannot be decrypted with the password given (TETHER_TLS_KEY_PASSWORD) or parsed"
                    : "not a valid PKCS#8 private key";
            throw new BadFile(KEY_KEY, key, why + ": " + e.getClass().getSimpleName());
        }
    }

    /** Whether {@code key} signs what {@code certificateKey} verifies: the pair belongs together. */
    static boolean belongTogether(PrivateKey key, PublicKey certificateKey) {
        String algorithm = switch (certificateKey.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            case "Ed448" -> "Ed448";
            default -> null;
        };
        if (algorithm == null
                || (!key.getAlgorithm().equals(certificateKey.getAlgorithm())
                        && !(key.getAlgorithm().startsWith("Ed")
                                && certificateKey.getAlgorithm().startsWith("Ed")))) {
            return false;
        }
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificateKey);
            verifier.update(challenge);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String describe(X509Certificate certificate) {
        return certificate.getSubjectX500Principal().getName();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
