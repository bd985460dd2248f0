package org.wsdetach.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.wsdetach.demo.DemoServer.Container;
import org.wsdetach.demo.EchoEndpoint;
import org.wsdetach.demo.JettyServer;

import java.net.URI;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.text;

/**
 * The demo server's wire protocol on embedded Jetty ee10, ws and wss, and the demo's {@code JettyServer} without
 * wsdetach, which must not detach. ee10 only: the demo embeds Jetty's ee10 layer (wsdetach-it-jetty-ee11 leaves
 * this class out).
 */
class DemoOnJettyProtocolTest extends DemoProtocolConformance {

    @Override
    protected Container container() {
        return Container.JETTY;
    }

    @Test
    void theServerIsJetty() throws Exception {
        // Jetty names itself in its Server header: Tyrus' Grizzly and Tomcat would answer otherwise.
        assertThat(notFoundPage()).startsWith("HTTP/1.1 404").contains("Server: Jetty(12.");
    }

    /** The demo's JettyServer without wsdetach's initializer is Jetty as it is: a close frame only closes. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"client-detach", "server-detach"})
    void withoutTheInitializerJettyDoesNotDetach(String mode) throws Exception {
        try (JettyServer stock = JettyServer.start("127.0.0.1", 0, null, false, EchoEndpoint.class);
             RawPeer peer = RawPeer.connect(URI.create("ws://127.0.0.1:" + stock.port() + "/echo"))) {
            peer.writeHex(text("hello"));
            assertThat(peer.readFrameHex()).isEqualTo("8105" + ascii("hello"));
            if (mode.equals("server-detach")) {
                // Detach.detach fails (no provider takes the session over): Jetty closes it as a server error.
                peer.writeHex(text("detach"));
                assertThat(peer.readFrameHex()).startsWith("88").doesNotStartWith("8808" + "03e8" + ascii("detach"));
            } else {
                peer.writeHex(CLOSE_1000 + ascii("raw"));
                assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            }
            // No raw echo: Jetty closes the connection after the close frames.
            assertThat(peer.readUntilClosed()).isEmpty();
        }
    }
}
