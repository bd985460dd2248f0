package org.wsdetach.demo;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The demo's TLS: a self-signed key made when the server starts (no key is shipped), its certificate
 * written out as PEM for clients to trust.
 */
public final class DemoTls {

    private static final String ALIAS = "wsdetach-demo";

    private DemoTls() {
    }

    /**
     * Makes a fresh self-signed EC key for {@code 127.0.0.1} and {@code localhost} with the JDK's keytool,
     * writes its certificate to {@code certificate} (PEM) and returns a server context holding the key.
     */
    public static SSLContext selfSigned(Path certificate) throws IOException, GeneralSecurityException {
        char[] password = Base64.getEncoder().encodeToString(new java.security.SecureRandom().generateSeed(12))
                .toCharArray();
        Path directory = Files.createTempDirectory("wsdetach-demo-key");
        Path keyFile = directory.resolve("key.p12");
        try {
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Process process = new ProcessBuilder(List.of(keytool, "-genkeypair", "-alias", ALIAS,
                    "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                    "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "30", "-storetype", "PKCS12",
                    "-keystore", keyFile.toString(), "-storepass", new String(password)))
                    .redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            try {
                if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                    throw new IOException("keytool failed: " + output);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while keytool ran", e);
            }
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keyFile)) {
                keys.load(in, password);
            }
            writePem(keys.getCertificate(ALIAS), certificate);
            KeyManagerFactory managers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            managers.init(keys, password);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(managers.getKeyManagers(), null, null);
            return context;
        } finally {
            Files.deleteIfExists(keyFile);
            Files.delete(directory);
        }
    }

    /** A client context that trusts the certificate in {@code certificate} (PEM or DER) and nothing else. */
    public static SSLContext trusting(Path certificate) throws IOException, GeneralSecurityException {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        try (InputStream in = Files.newInputStream(certificate)) {
            trusted.setCertificateEntry(ALIAS, CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory managers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        managers.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, managers.getTrustManagers(), null);
        return context;
    }

    private static void writePem(Certificate certificate, Path file) throws IOException, GeneralSecurityException {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(certificate.getEncoded());
        Files.writeString(file, "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n");
    }
}
