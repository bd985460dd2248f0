package org.wsdetach.it;

import jakarta.websocket.ClientEndpoint;
import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.apache.coyote.http11.upgrade.UpgradeGroupInfo;
import org.apache.tomcat.websocket.WsWebSocketContainer;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;
import org.wsdetach.demo.TomcatServer;

import java.lang.reflect.Field;
import java.net.URI;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.text;

/** What only the Tomcat adapter promises: where it takes over, what it refuses, what it gives back to Tomcat. */
class TomcatAdapterTest extends ConformanceBase {

    private static final CloseReason BYE = new CloseReason(CloseCodes.NORMAL_CLOSURE, "");

    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
    }

    /** What {@link Detach#detach} throws when the probe endpoint is told "go". */
    private static CompletableFuture<Throwable> refusalOnGo() {
        CompletableFuture<Throwable> refusal = new CompletableFuture<>();
        Probe.onText = s -> {
            try {
                Detach.detach(s, BYE, Probe.HAND_TO_TEST);
                refusal.complete(null);
            } catch (RuntimeException e) {
                refusal.complete(e);
            }
        };
        return refusal;
    }

    @Test
    void aDetachedConnectionUnwrapsToItsSocketChannel() throws Exception {
        try (SocketPeer peer = peer("/probe")) {
            DetachedConnection connection = detachedOnGo(peer);
            SocketChannel channel = connection.unwrap(SocketChannel.class).orElseThrow();
            assertThat(channel.getRemoteAddress()).isEqualTo(peer.socket().getLocalSocketAddress());
            connection.close();
            assertThat(channel.isOpen()).isFalse();
        }
    }

    @Test
    void aSessionWithPermessageDeflateDetaches() throws Exception {
        // Tomcat offers permessage-deflate, as browsers ask for; compressed frames carry RSV1.
        Probe.onText = s -> Detach.detach(s, BYE, Probe.HAND_TO_TEST);
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
    void aDetachedConnectionLeavesTheConnectorsBooks() throws Exception {
        // With room for one connection, a second is accepted only once Tomcat no longer counts the first.
        try (TomcatServer one = TomcatServer.start("127.0.0.1", 0, null, true, TomcatServer.NIO,
                Map.of("maxConnections", "1"), Probe.ProbeEndpoint.class);
             SocketPeer peer = RawPeer.connect(URI.create("ws://127.0.0.1:" + one.port() + "/probe"), null)) {
            DetachedConnection connection = detachedOnGo(peer);
            try (SocketPeer second = RawPeer.connect(URI.create("ws://127.0.0.1:" + one.port() + "/probe"), null)) {
                second.writeHex(text("echo:still served"));
                assertThat(second.readFrameHex()).isEqualTo("8111" + Wire.ascii("echo:still served"));
            }
            write(connection, "x");
            assertThat(peer.readHex(1)).isEqualTo(Wire.ascii("x"));
            connection.close();
        }
    }

    @Test
    void aDetachedConnectionLeavesTheConnectorsUpgradeStatistics() throws Exception {
        // Tomcat lists every upgraded connection until its processor closes; a detach closes none.
        try (TomcatServer tomcat = TomcatServer.start("127.0.0.1", 0, null, true, Probe.ProbeEndpoint.class);
             SocketPeer peer = RawPeer.connect(URI.create("ws://127.0.0.1:" + tomcat.port() + "/probe"), null);
             SocketPeer other = RawPeer.connect(URI.create("ws://127.0.0.1:" + tomcat.port() + "/probe"), null)) {
            other.writeHex(text("echo:open"));
            assertThat(other.readFrameHex()).isEqualTo("8109" + Wire.ascii("echo:open"));
            DetachedConnection connection = detachedOnGo(peer);
            assertThat(upgradedConnectionsListed(tomcat)).as("the other one only").isEqualTo(1);
            connection.close();
        }
    }

    @Test
    void idleDetachedConnectionsKeepNothingOfTomcatsConnectionsReachable() throws Exception {
        assertIdleDetachedConnectionsKeepNone("org.apache.tomcat.util.net.NioEndpoint$NioSocketWrapper",
                "org.apache.tomcat.websocket.WsSession", "org.apache.tomcat.websocket.server.WsHttpUpgradeHandler");
    }

    /** How many connections the connector's upgrade statistics list, over all its upgrade protocols. */
    private static int upgradedConnectionsListed(TomcatServer tomcat) throws Exception {
        Field groups = AbstractHttp11Protocol.class
                .getDeclaredField("upgradeProtocolGroupInfos");
        groups.setAccessible(true);
        Field listed = UpgradeGroupInfo.class
                .getDeclaredField("upgradeInfos");
        listed.setAccessible(true);
        int count = 0;
        for (Object group : ((Map<?, ?>) groups.get(tomcat.connector().getProtocolHandler())).values()) {
            count += ((Set<?>) listed.get(group)).size();
        }
        return count;
    }

    @Test
    void stoppingTheConnectorAloneLeavesDetachedConnectionsOpen() throws Exception {
        // A stopping connector closes the connections in its books; a detached one is the application's.
        try (TomcatServer tomcat = TomcatServer.start("127.0.0.1", 0, null, true, Probe.ProbeEndpoint.class);
             SocketPeer peer = RawPeer.connect(URI.create("ws://127.0.0.1:" + tomcat.port() + "/probe"), null)) {
            DetachedConnection connection = detachedOnGo(peer);
            tomcat.connector().stop();
            write(connection, "x");
            assertThat(peer.readHex(1)).isEqualTo(Wire.ascii("x"));
            peer.writeHex(Wire.ascii("y"));
            assertThat(readText(connection, 1)).isEqualTo("y");
            connection.close();
        }
    }

    @Test
    void withoutTheInitializerADetachIsUnsupportedAndSaysWhatToAdd() throws Exception {
        CompletableFuture<Throwable> refusal = refusalOnGo();
        try (ServerFixture.RunningServer stock = fixture().startStock(Probe.ProbeEndpoint.class);
             SocketPeer peer = RawPeer.connect(stock.uri("/probe"), null)) {
            peer.writeHex(text("go"));
            assertThat(refusal.get(10, TimeUnit.SECONDS)).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageEndingWith("was not upgraded through wsdetach: add org.wsdetach.tomcat.DetachInitializer"
                            + " to its web application (Tomcat finds it in WEB-INF/lib by itself; embedded Tomcat and"
                            + " Spring Boot add it as its javadoc shows)");
            peer.writeHex(text("echo:on"));
            assertThat(peer.readFrameHex()).isEqualTo("8107" + Wire.ascii("echo:on"));
        }
    }

    @Test
    void theNio2ConnectorIsUnsupportedAndItsSessionsCloseAsOnStockTomcat() throws Exception {
        CompletableFuture<Throwable> refusal = refusalOnGo();
        try (TomcatServer nio2 = TomcatServer.start("127.0.0.1", 0, null, true,
                "org.apache.coyote.http11.Http11Nio2Protocol", Map.of(), Probe.ProbeEndpoint.class,
                Probe.DeclaredEndpoint.class)) {
            try (SocketPeer peer = RawPeer.connect(URI.create("ws://127.0.0.1:" + nio2.port() + "/probe"), null)) {
                peer.writeHex(text("go"));
                assertThat(refusal.get(10, TimeUnit.SECONDS)).isInstanceOf(UnsupportedOperationException.class)
                        .hasMessageContaining("cannot be detached: its connector is org.apache.tomcat.util.net.Nio2Endpoint")
                        .hasMessageEndingWith("wsdetach-tomcat takes over connections of the NIO connector"
                                + " (org.apache.coyote.http11.Http11NioProtocol, Tomcat's default) only");
                peer.writeHex(text("echo:on"));
                assertThat(peer.readFrameHex()).isEqualTo("8107" + Wire.ascii("echo:on"));
            }
            // @DetachOnPeerClose cannot take effect: Tomcat answers the close and closes the connection.
            try (SocketPeer peer = RawPeer.connect(URI.create("ws://127.0.0.1:" + nio2.port() + "/declared"), null)) {
                peer.writeHex(CLOSE_1000 + HELLO);
                assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
                assertThat(peer.readUntilClosed()).isEmpty();
            }
            assertThat(Probe.handed).isNotDone();
        }
    }

    @Test
    void tomcatsClientSessionsAreUnsupported() throws Exception {
        CompletableFuture<Throwable> refusal = new CompletableFuture<>();
        ClientProbe.onOpen = s -> {
            try {
                Detach.detach(s, BYE, Probe.HAND_TO_TEST);
                refusal.complete(null);
            } catch (RuntimeException e) {
                refusal.complete(e);
            }
        };
        WsWebSocketContainer client = new WsWebSocketContainer();
        try (Session session = client.connectToServer(ClientProbe.class, server.uri("/probe"))) {
            assertThat(refusal.get(10, TimeUnit.SECONDS)).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageEndingWith("is a session of Tomcat's WebSocket client, which runs on an"
                            + " AsynchronousSocketChannel: wsdetach detaches SocketChannel connections only");
            assertThat(session.isOpen()).isTrue();
        } finally {
            client.destroy();
        }
    }

    @ClientEndpoint
    public static class ClientProbe {
        static volatile java.util.function.Consumer<Session> onOpen;

        @OnOpen
        public void open(Session session) {
            onOpen.accept(session);
        }
    }
}
