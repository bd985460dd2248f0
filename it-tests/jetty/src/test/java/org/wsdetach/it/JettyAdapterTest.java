package org.wsdetach.it;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.eclipse.jetty.io.EndPoint;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** What only the Jetty adapter promises: what a detached connection unwraps to, and Jetty's own extensions. */
class JettyAdapterTest extends ConformanceBase {

    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }

    @Test
    void aDetachedConnectionUnwrapsToItsSocketChannelAndJettysEndPoint() throws Exception {
        try (SocketPeer peer = peer("/probe")) {
            DetachedConnection connection = detachedOnGo(peer);
            SocketChannel channel = connection.unwrap(SocketChannel.class).orElseThrow();
            assertThat(channel.getRemoteAddress()).isEqualTo(peer.socket().getLocalSocketAddress());
            assertThat(connection.unwrap(EndPoint.class)).isPresent();
            connection.close();
            assertThat(channel.isOpen()).isFalse();
        }
    }

    @Test
    void aSessionWithPermessageDeflateDetaches() throws Exception {
        // Jetty offers permessage-deflate, as browsers ask for; compressed frames carry RSV1.
        Probe.onText = s -> Detach.detach(s, new CloseReason(CloseCodes.NORMAL_CLOSURE, ""), Probe.HAND_TO_TEST);
        try (RawPeer peer = RawPeer.connect(server.uri("/probe"), null, "Sec-WebSocket-Extensions: permessage-deflate\r\n")) {
            assertThat(new String(peer.handshakeResponse(), StandardCharsets.US_ASCII))
                    .containsIgnoringCase("Sec-WebSocket-Extensions: permessage-deflate");
            peer.writeHex(Wire.compressedText("go"));
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            // Written before the peer saw our close: read and dropped by the close-wait.
            peer.writeHex(Wire.compressedText("late") + CLOSE_1000 + HELLO);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            connection.close();
        }
    }
}
