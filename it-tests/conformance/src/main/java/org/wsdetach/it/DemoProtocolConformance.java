package org.wsdetach.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wsdetach.demo.DemoClient;
import org.wsdetach.demo.DemoServer;
import org.wsdetach.demo.DemoServer.Container;

import javax.net.ssl.SSLSocketFactory;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;
import static org.wsdetach.it.Wire.text;

/**
 * The demo server's wire protocol ({@code DemoServer.start(container(), ...)}), over {@code ws} and {@code wss}:
 * text is echoed, a detach either way echoes raw bytes, and the demo's own client detaches in both directions.
 * One subclass per container, in that container's test module.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DemoProtocolConformance {

    static final String CLOSE_1000 = frame(0x8, "03e8");
    protected DemoServer plain;
    protected DemoServer secure;

    /** The container the demo server runs on. */
    protected abstract Container container();

    @BeforeAll
    void start() throws Exception {
        plain = DemoServer.start(container(), "127.0.0.1", 0, null);
        secure = DemoServer.start(container(), "127.0.0.1", 0, TestKey.server());
    }

    @AfterAll
    void stop() {
        try {
            if (plain != null) {
                plain.close();
            }
        } finally {
            if (secure != null) {
                secure.close();
            }
        }
    }

    private DemoServer server(boolean tls) {
        return tls ? secure : plain;
    }

    /** What the server answers a plain HTTP request for a path it does not serve: the container shows in it. */
    protected String notFoundPage() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", plain.port())) {
            socket.setSoTimeout(RawPeer.TIMEOUT_MILLIS);
            socket.getOutputStream().write(("GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void theServerServesTheEchoEndpoint() {
        assertThat(plain.container()).isEqualTo(container());
        assertThat(plain.uri().toString()).matches("ws://127\\.0\\.0\\.1:\\d+/echo");
        assertThat(secure.uri().toString()).matches("wss://127\\.0\\.0\\.1:\\d+/echo");
    }

    private RawPeer connect(boolean tls) throws Exception {
        SSLSocketFactory sockets = tls ? TestKey.client().getSocketFactory() : null;
        return RawPeer.connect(server(tls).uri(), sockets);
    }

    @ParameterizedTest(name = "tls: {0}")
    @CsvSource({"false", "true"})
    void textIsEchoedAsText(boolean tls) throws Exception {
        try (RawPeer peer = connect(tls)) {
            peer.writeHex(text("héllo"));
            assertThat(peer.readFrameHex()).isEqualTo("8106" + ascii("héllo"));
        }
    }

    @ParameterizedTest(name = "{0}, {1} bytes, bytewise frames: {2}, tls: {3}")
    @CsvSource({
            "server-detach, 0, false, false", "server-detach, 5, false, false", "server-detach, 1048576, false, false",
            "server-detach, 5, true, false",
            "client-detach, 0, false, false", "client-detach, 5, false, false", "client-detach, 1048576, false, false",
            "client-detach, 5, true, false",
            "server-detach, 0, false, true", "server-detach, 5, false, true", "server-detach, 1048576, false, true",
            "server-detach, 5, true, true",
            "client-detach, 0, false, true", "client-detach, 5, false, true", "client-detach, 1048576, false, true",
            "client-detach, 5, true, true",
    })
    void rawBytesAreEchoedAfterTheDetach(String mode, int size, boolean bytewise, boolean tls) throws Exception {
        try (RawPeer peer = connect(tls)) {
            assertRawBytesEchoedAfterTheDetach(peer, mode, size, bytewise);
        }
    }

    /**
     * Detaches the demo's endpoint through {@code peer} in {@code mode} ({@code server-detach} or
     * {@code client-detach}), then streams {@code size} random bytes, the first of them in the same write as the
     * peer's close frame, and checks that exactly they are echoed before the server's FIN.
     *
     * @param bytewise whether the frames go one byte per write
     */
    static void assertRawBytesEchoedAfterTheDetach(RawPeer peer, String mode, int size, boolean bytewise)
            throws Exception {
        byte[] raw = new byte[size];
        new Random(size).nextBytes(raw);
        int inFirstWrite = Math.min(size, 5);
        if (mode.equals("server-detach")) {
            send(peer, peer.bytes(text("detach")), bytewise);
            assertThat(peer.readFrameHex()).isEqualTo("8808" + "03e8" + ascii("detach"));
        }
        // Our close frame and the first raw bytes in one write: for client-detach, before the server's reply.
        byte[] close = peer.bytes(CLOSE_1000);
        if (bytewise) {
            peer.writeBytewise(close);
            peer.write(Arrays.copyOfRange(raw, 0, inFirstWrite));
        } else {
            byte[] first = Arrays.copyOf(close, close.length + inFirstWrite);
            System.arraycopy(raw, 0, first, close.length, inFirstWrite);
            peer.write(first);
        }
        if (mode.equals("client-detach")) {
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
        }
        CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
            try {
                peer.write(Arrays.copyOfRange(raw, inFirstWrite, size));
                peer.shutdownOutput();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        ByteArrayOutputStream echoed = new ByteArrayOutputStream();
        echoed.write(peer.readToEnd(size));
        sent.get(10, TimeUnit.SECONDS);
        assertThat(echoed.size()).isEqualTo(size);
        assertThat(echoed.toByteArray()).isEqualTo(raw);
    }

    @ParameterizedTest(name = "{0}, {1} bytes, tls: {2}")
    @CsvSource({
            "server-detach, 0, false", "server-detach, 5, false", "server-detach, 1048576, false",
            "client-detach, 0, false", "client-detach, 5, false", "client-detach, 1048576, false",
            "server-detach, 0, true", "server-detach, 5, true", "server-detach, 1048576, true",
            "client-detach, 0, true", "client-detach, 5, true", "client-detach, 1048576, true",
    })
    void theDemoClientDetaches(String mode, long size, boolean tls) throws Exception {
        try (DemoClient client = DemoClient.connect(server(tls).uri(), Duration.ofSeconds(10),
                tls ? TestKey.client() : null)) {
            client.sendText("hello");
            assertThat(client.readText()).isEqualTo("hello");
            // Throws unless the close frames are as the protocol says and the echo equals what was sent.
            DemoClient.Result result = client.detach(DemoClient.Mode.of(mode), size);
            assertThat(result.mode()).hasToString(mode);
            assertThat(result.bytes()).isEqualTo(size);
        }
    }

    private static void send(RawPeer peer, byte[] bytes, boolean bytewise) throws Exception {
        if (bytewise) {
            peer.writeBytewise(bytes);
        } else {
            peer.write(bytes);
        }
    }
}
