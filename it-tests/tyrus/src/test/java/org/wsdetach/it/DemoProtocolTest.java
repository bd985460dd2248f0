package org.wsdetach.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wsdetach.demo.DemoServer;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;
import static org.wsdetach.it.Wire.text;

/** The demo server's wire protocol, as an independent client in another language would check it. */
class DemoProtocolTest {

    static final String CLOSE_1000 = frame(0x8, "03e8");
    static DemoServer server;

    @BeforeAll
    static void start() throws Exception {
        server = DemoServer.start("127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void textIsEchoedAsText() throws Exception {
        try (RawPeer peer = RawPeer.connect(server.uri())) {
            peer.writeHex(text("héllo"));
            assertThat(peer.readFrameHex()).isEqualTo("8106" + ascii("héllo"));
        }
    }

    @ParameterizedTest(name = "{0}, {1} bytes, bytewise frames: {2}")
    @CsvSource({
            "server-detach, 0, false", "server-detach, 5, false", "server-detach, 1048576, false",
            "server-detach, 5, true",
            "client-detach, 0, false", "client-detach, 5, false", "client-detach, 1048576, false",
            "client-detach, 5, true",
    })
    void rawBytesAreEchoedAfterTheDetach(String mode, int size, boolean bytewise) throws Exception {
        byte[] raw = new byte[size];
        new Random(size).nextBytes(raw);
        int inFirstWrite = Math.min(size, 5);
        try (RawPeer peer = RawPeer.connect(server.uri())) {
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
    }

    private static void send(RawPeer peer, byte[] bytes, boolean bytewise) throws Exception {
        if (bytewise) {
            peer.writeBytewise(bytes);
        } else {
            peer.write(bytes);
        }
    }
}
