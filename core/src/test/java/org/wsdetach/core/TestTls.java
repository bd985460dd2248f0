package org.wsdetach.core;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** TLS for the tests: a self-signed key made at test time, and a container's side of a handshake. */
final class TestTls {

    private static final String ALIAS = "wsdetach-test";
    private static final char[] PASSWORD = "test-only".toCharArray();
    private static final int RECORD_HEADER = 5;

    private TestTls() {
    }

    /** A context with a fresh self-signed EC key for {@code localhost} that also trusts that key. */
    static SSLContext selfSigned(Path directory) throws IOException, GeneralSecurityException,
            InterruptedException {
        Path keyFile = directory.resolve("key.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Process process = new ProcessBuilder(List.of(keytool, "-genkeypair", "-alias", ALIAS,
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
                "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", keyFile.toString(), "-storepass", new String(PASSWORD)))
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("keytool failed: " + output);
        }
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyFile)) {
            keys.load(in, PASSWORD);
        }
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry(ALIAS, keys.getCertificate(ALIAS));
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, PASSWORD);
        TrustManagerFactory trustManagers =
                TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
        return context;
    }

    /**
     * Does the handshake of {@code engine} over the blocking {@code channel}, reading one record at a time
     * so that nothing the peer sends after the handshake is consumed.
     */
    static void handshake(SocketChannel channel, SSLEngine engine) throws IOException {
        engine.beginHandshake();
        ByteBuffer plain = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        ByteBuffer in = ByteBuffer.allocate(0);
        for (;;) {
            switch (engine.getHandshakeStatus()) {
                case NEED_WRAP -> {
                    out.clear();
                    expectOk(engine.wrap(ByteBuffer.allocate(0), out));
                    out.flip();
                    writeFully(channel, out);
                }
                case NEED_UNWRAP -> {
                    if (!in.hasRemaining()) {
                        in = readRecord(channel);
                    }
                    expectOk(engine.unwrap(in, plain));
                }
                case NEED_TASK -> {
                    for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
                        task.run();
                    }
                }
                default -> {
                    if (in.hasRemaining() || plain.position() > 0) {
                        throw new SSLException("Handshake left bytes behind");
                    }
                    return;
                }
            }
        }
    }

    /** Reads exactly one TLS record (header included) from the blocking {@code channel}. */
    static ByteBuffer readRecord(SocketChannel channel) throws IOException {
        ByteBuffer header = readExactly(channel, RECORD_HEADER);
        int length = (header.get(3) & 0xff) << 8 | header.get(4) & 0xff;
        ByteBuffer record = ByteBuffer.allocate(RECORD_HEADER + length);
        record.put(header);
        record.put(readExactly(channel, length));
        return record.flip();
    }

    /** Reads exactly {@code length} bytes from the blocking {@code channel}, in read mode. */
    static ByteBuffer readExactly(SocketChannel channel, int length) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(length);
        while (bytes.hasRemaining()) {
            if (channel.read(bytes) < 0) {
                throw new EOFException("after " + bytes.position() + " of " + length + " bytes");
            }
        }
        return bytes.flip();
    }

    private static void writeFully(SocketChannel channel, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }

    private static void expectOk(SSLEngineResult result) throws SSLException {
        if (result.getStatus() != SSLEngineResult.Status.OK) {
            throw new SSLException("Handshake step failed: " + result);
        }
    }

    /**
     * A TCP socket that notes when its input reaches the end of the stream. A JDK {@code SSLSocket}
     * layered over it reads a bare TCP end as the end of the TLS stream too; only a {@code close_notify}
     * ends it while this socket has not seen the TCP end yet, since a TLS record is read to its exact length.
     */
    static final class TappedSocket extends Socket {
        private volatile boolean endOfStreamSeen;
        private InputStream in;

        boolean endOfStreamSeen() {
            return endOfStreamSeen;
        }

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (in == null) {
                in = new FilterInputStream(super.getInputStream()) {
                    @Override
                    public int read() throws IOException {
                        return noted(super.read());
                    }

                    @Override
                    public int read(byte[] b, int off, int len) throws IOException {
                        return noted(super.read(b, off, len));
                    }
                };
            }
            return in;
        }

        private int noted(int n) {
            if (n < 0) {
                endOfStreamSeen = true;
            }
            return n;
        }
    }
}
