package org.wsdetach.it;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.eclipse.jetty.io.EndPoint;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.text;

/**
 * What only the Jetty adapter promises: what a detached connection unwraps to, Jetty's own extensions, and that
 * an idle connection holds none of the adapter's buffers.
 */
class JettyAdapterTest extends ConformanceBase {

    /** Half the adapter's read buffer, which every connection used to hold for its whole life. */
    private static final long MOST_BYTE_ARRAY_BYTES_PER_IDLE_CONNECTION = 16 * 1024;

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

    @Test
    void idleSessionsHoldNoReadBuffer() throws Exception {
        HeapMeter.Growth growth = HeapMeter.keeping(IDLE_CONNECTIONS, () -> List.of(idleSession()));
        assertThat(growth.bytesOf("[B") / IDLE_CONNECTIONS).as("bytes of byte arrays per idle session")
                .isLessThan(MOST_BYTE_ARRAY_BYTES_PER_IDLE_CONNECTION);
    }

    @Test
    void idleDetachedConnectionsHoldNoReadBuffer() throws Exception {
        HeapMeter.Growth growth = HeapMeter.keeping(IDLE_CONNECTIONS, this::idleDetachedConnection);
        assertThat(growth.bytesOf("[B") / IDLE_CONNECTIONS).as("bytes of byte arrays per idle detached connection")
                .isLessThan(MOST_BYTE_ARRAY_BYTES_PER_IDLE_CONNECTION);
    }

    @Test
    void idleDetachedConnectionsKeepNothingOfJettysSessionsReachable() throws Exception {
        assertIdleDetachedConnectionsKeepNone("org.eclipse.jetty.websocket.core.WebSocketConnection",
                "org.eclipse.jetty.server.internal.HttpConnection", "org.wsdetach.jetty.JettyConnection");
    }

    /** A session that has read a message, so that its reads have run, and is left open. */
    private SocketPeer idleSession() throws Exception {
        SocketPeer peer = peer("/probe");
        peer.writeHex(text("echo:idle"));
        assertThat(peer.readFrameHex()).isEqualTo("8109" + Wire.ascii("echo:idle"));
        return peer;
    }
}
