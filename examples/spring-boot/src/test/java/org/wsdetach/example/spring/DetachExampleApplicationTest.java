package org.wsdetach.example.spring;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.example.spring.RawPeer.hex;

/**
 * The application on its embedded Tomcat, against a byte-level client: both ways of detaching, on the annotated
 * endpoint and on the Spring handler, checked byte for byte on the wire. Client frames are masked with the key
 * 00000000, which leaves their payload as it is.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.main.banner-mode=off", "server.tomcat.basedir=target/tomcat/example-test"})
class DetachExampleApplicationTest {

    /** A text frame "hi", masked, and the server's echo of it. */
    private static final String TEXT_HI = "8182" + "00000000" + hex("hi");
    private static final String ECHO_HI = "8102" + hex("hi");
    /** A text frame "detach", masked. */
    private static final String TEXT_DETACH = "8186" + "00000000" + hex("detach");
    /** The server's close frame of a detach: 1000, "detached". */
    private static final String CLOSE_DETACHED = "880a" + "03e8" + hex("detached");
    /** A close frame 1000 without reason, masked. */
    private static final String CLOSE_1000 = "8882" + "00000000" + "03e8";
    /** The server's reply to it. */
    private static final String REPLY_1000 = "8802" + "03e8";

    @LocalServerPort
    private int port;

    @Test
    void theEndpointDetachesOnItsOwnCloseFrame() throws IOException {
        serverInitiated("/echo");
    }

    @Test
    void theEndpointDetachesOnTheClientsCloseFrame() throws IOException {
        peerInitiated("/echo");
    }

    @Test
    void theSpringHandlerDetachesOnItsOwnCloseFrame() throws IOException {
        serverInitiated("/spring-echo");
    }

    @Test
    void theSpringHandlerDetachesOnTheClientsCloseFrame() throws IOException {
        peerInitiated("/spring-echo");
    }

    /** "detach" from the client: the server's close frame, ours with raw bytes behind it, the raw echo. */
    private void serverInitiated(String path) throws IOException {
        try (RawPeer peer = RawPeer.upgrade(port, path)) {
            peer.send(TEXT_HI);
            assertThat(peer.receive(ECHO_HI.length() / 2)).isEqualTo(ECHO_HI);
            peer.send(TEXT_DETACH);
            assertThat(peer.receive(CLOSE_DETACHED.length() / 2)).isEqualTo(CLOSE_DETACHED);
            peer.send(CLOSE_1000 + hex("hello"));
            rawEcho(peer);
        }
    }

    /** A close frame from the client with raw bytes behind it, in one write: the reply close frame, the raw echo. */
    private void peerInitiated(String path) throws IOException {
        try (RawPeer peer = RawPeer.upgrade(port, path)) {
            peer.send(TEXT_HI);
            assertThat(peer.receive(ECHO_HI.length() / 2)).isEqualTo(ECHO_HI);
            peer.send(CLOSE_1000 + hex("hello"));
            assertThat(peer.receive(REPLY_1000.length() / 2)).isEqualTo(REPLY_1000);
            rawEcho(peer);
        }
    }

    /** "hello" has been sent behind the client's close frame: it comes back unframed, then so does a later write. */
    private static void rawEcho(RawPeer peer) throws IOException {
        assertThat(peer.receive(5)).isEqualTo(hex("hello"));
        peer.send(hex(" world"));
        assertThat(peer.receive(6)).isEqualTo(hex(" world"));
        peer.shutdownOutput();
        assertThat(peer.read()).as("end of stream after the client's half-close").isEqualTo(-1);
    }
}
