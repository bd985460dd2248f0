package org.wsdetach.it;

import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import javax.net.ssl.SSLSocketFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.text;

/**
 * {@link FaultConformance} over {@code wss}: every fault and race again, each TLS record carrying what the plain
 * run writes to TCP; and what a detached {@code wss} connection writes is TLS records only.
 */
public abstract class TlsFaultConformance extends FaultConformance {

    @Override
    ServerFixture.RunningServer start(Class<?>... endpoints) throws Exception {
        return fixture().startSecure(TestKey.server(), endpoints);
    }

    @Override
    SSLSocketFactory tls() throws Exception {
        return TestKey.client().getSocketFactory();
    }

    @Test
    void aDetachedWssConnectionWritesTlsRecordsOnly() throws Exception {
        Probe.onText = session -> Detach.detach(session, BYE, Probe.HAND_TO_TEST);
        URI uri = server.uri("/probe");
        try (RecordingProxy proxy = new RecordingProxy(uri.getPort())) {
            try (SocketPeer peer = RawPeer.connect(URI.create("wss://127.0.0.1:" + proxy.port() + "/probe"), tls())) {
                peer.writeHex(text("go"));
                assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
                peer.writeHex(CLOSE_1000 + HELLO);
                DetachedConnection connection = Probe.awaitHanded();
                assertThat(readText(connection, 5)).isEqualTo("hello");
                String secret = "plaintext that must never be seen on the wire";
                write(connection, secret);
                assertThat(new String(peer.readExactly(secret.length()), StandardCharsets.UTF_8)).isEqualTo(secret);
                // Our half-close is a close_notify record; then the peer's ends the stream.
                connection.shutdownOutput();
                assertThat(peer.in().read()).isEqualTo(-1);
                connection.close();
            }
            byte[] fromServer = proxy.fromServer();
            assertThat(new String(fromServer, StandardCharsets.ISO_8859_1))
                    .doesNotContain("plaintext that must never be seen");
            assertTlsRecordsOnly(fromServer);
        }
    }

    /** {@code bytes} are whole TLS records (RFC 8446 section 5.1, RFC 5246 section 6.2), one after the other. */
    static void assertTlsRecordsOnly(byte[] bytes) {
        int at = 0;
        int records = 0;
        while (at < bytes.length) {
            assertThat(bytes.length - at).as("a record header at %d", at).isGreaterThanOrEqualTo(5);
            int type = bytes[at] & 0xff;
            assertThat(type).as("record type at %d", at).isBetween(20, 23);
            assertThat(bytes[at + 1]).as("record version at %d", at).isEqualTo((byte) 3);
            int length = (bytes[at + 3] & 0xff) << 8 | bytes[at + 4] & 0xff;
            assertThat(length).as("record length at %d", at).isBetween(1, (1 << 14) + 256);
            at += 5 + length;
            records++;
        }
        assertThat(at).as("the last record ends with the stream").isEqualTo(bytes.length);
        assertThat(records).isGreaterThan(3);
    }

    /** A TCP proxy on 127.0.0.1 for one connection, keeping what the server sends. */
    private static final class RecordingProxy implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        private final ByteArrayOutputStream fromServer = new ByteArrayOutputStream();
        private final CompletableFuture<Void> serverToClient;

        RecordingProxy(int serverPort) throws IOException {
            serverToClient = CompletableFuture.runAsync(() -> {
                try (Socket client = listener.accept();
                     Socket server = new Socket(InetAddress.getLoopbackAddress(), serverPort)) {
                    CompletableFuture<Void> clientToServer = CompletableFuture.runAsync(
                            () -> pump(client, server, null));
                    pump(server, client, fromServer);
                    clientToServer.get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        int port() {
            return listener.getLocalPort();
        }

        /** Everything the server sent, once both directions have ended. */
        byte[] fromServer() throws Exception {
            serverToClient.get(30, TimeUnit.SECONDS);
            synchronized (fromServer) {
                return fromServer.toByteArray();
            }
        }

        /** Copies until the end of {@code from}'s stream, then half-closes {@code to}. */
        private static void pump(Socket from, Socket to, ByteArrayOutputStream record) {
            byte[] buffer = new byte[16384];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (record != null) {
                        synchronized (record) {
                            record.write(buffer, 0, n);
                        }
                    }
                    out.write(buffer, 0, n);
                }
                to.shutdownOutput();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() throws IOException {
            listener.close();
        }
    }
}
