package org.wsdetach.it;

import jakarta.websocket.ClientEndpoint;
import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpoint;
import org.glassfish.tyrus.client.ClientManager;
import org.glassfish.tyrus.client.ClientProperties;
import org.glassfish.tyrus.client.SslEngineConfigurator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;
import org.wsdetach.tyrus.DetachAwareReconnectHandler;
import org.wsdetach.tyrus.DetachingClientContainer;

import javax.net.ssl.SSLException;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.wsdetach.it.Wire.ascii;

/**
 * Sessions of the Tyrus client detach too: against wsdetach's Tyrus server with both sides detaching, over
 * ws and wss, and what only clients have (reconnects, their own transports). The byte-level edge cases
 * run in {@link TyrusClientLocalDetachTest} and {@link TyrusClientPeerDetachTest}.
 */
class TyrusClientDetachTest {

    static final CloseReason CLIENT_DONE = new CloseReason(CloseCodes.NORMAL_CLOSURE, "client done");

    ServerFixture.RunningServer server;
    ClientManager client;
    /**
     * An idle session of the client for the whole test: Tyrus' client shuts its executors down when its last
     * session closes, even while a sendText on that session is still returning, and a detach closes one.
     */
    Session keeper;

    @ServerEndpoint("/idle")
    public static class Idle {
    }

    @ClientEndpoint
    public static class IdleClient {
    }

    @BeforeEach
    void start() throws Exception {
        Probe.reset();
        server = new TyrusFixture().start(Probe.ProbeEndpoint.class, Probe.DeclaredEndpoint.class, Idle.class);
        client = ClientManager.createClient(DetachingClientContainer.class.getName());
        keeper = client.connectToServer(new IdleClient(), server.uri("/idle"));
    }

    @AfterEach
    void stop() throws Exception {
        keeper.close();
        server.close();
        if (serverPeer != null) {
            serverPeer.close();
        }
    }

    /** A client endpoint that hands its detached connection to the test. */
    @ClientEndpoint
    public static class ClientSide {
        final CompletableFuture<Session> opened = new CompletableFuture<>();
        final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
        final CompletableFuture<DetachedConnection> handed = new CompletableFuture<>();
        final AtomicInteger closes = new AtomicInteger();
        volatile boolean detachOnPeerClose;
        volatile String firstWords;

        DetachHandler handler() {
            return connection -> {
                if (firstWords != null) {
                    connection.write(java.nio.ByteBuffer.wrap(firstWords.getBytes()));
                }
                handed.complete(connection);
            };
        }

        @OnOpen
        public void open(Session session) {
            if (detachOnPeerClose) {
                Detach.detachOnPeerClose(session, handler());
            }
            opened.complete(session);
        }

        @OnClose
        public void close(CloseReason reason) {
            closes.incrementAndGet();
            closed.complete(reason);
        }
    }

    @Test
    void theClientDetachesAndTheServerDetachesOnItsCloseFrameAnsweringWithRawBytesAtOnce() throws Exception {
        // The server's handler writes as soon as it has the connection, right behind its reply close frame.
        Probe.greeting = "early";
        ClientSide side = new ClientSide();
        Session session = client.connectToServer(side, server.uri("/declared"));
        CompletableFuture<DetachedConnection> stage = Detach.detach(session, CLIENT_DONE, side.handler());
        DetachedConnection ours = stage.get(10, TimeUnit.SECONDS);
        DetachedConnection theirs = Probe.awaitHanded();
        assertThat(ConformanceBase.readText(ours, 5)).isEqualTo("early");
        assertThat(side.handed.get(10, TimeUnit.SECONDS)).isSameAs(ours);
        assertThat(theirs.peerCloseReason().getReasonPhrase()).isEqualTo("client done");
        assertThat(ours.peerCloseReason().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);

        ConformanceBase.write(ours, "ping");
        assertThat(ConformanceBase.readText(theirs, 4)).isEqualTo("ping");
        ConformanceBase.write(theirs, "pong");
        assertThat(ConformanceBase.readText(ours, 4)).isEqualTo("pong");

        assertThat(side.closed.get(10, TimeUnit.SECONDS).getReasonPhrase()).isEqualTo("client done");
        assertThat(session.isOpen()).isFalse();
        ours.shutdownOutput();
        assertThat(ConformanceBase.readToEnd(theirs, 0)).isZero();
        theirs.close();
        assertThat(ConformanceBase.readToEnd(ours, 0)).isZero();
        ours.close();
        assertThat(side.closes).hasValue(1);
    }

    @Test
    void theServerDetachesAndTheClientAnswersWithRawBytesAtOnce() throws Exception {
        Probe.onText = s -> Detach.detach(s, new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye"), Probe.HAND_TO_TEST);
        ClientSide side = new ClientSide();
        side.detachOnPeerClose = true;
        // The client's handler writes as soon as it has the connection, right behind its reply close frame.
        side.firstWords = "early";
        Session session = client.connectToServer(side, server.uri("/probe"));
        session.getBasicRemote().sendText("go");
        DetachedConnection ours = side.handed.get(10, TimeUnit.SECONDS);
        DetachedConnection theirs = Probe.awaitHanded();
        assertThat(ConformanceBase.readText(theirs, 5)).isEqualTo("early");
        assertThat(ours.peerCloseReason().getReasonPhrase()).isEqualTo("bye");
        ConformanceBase.write(theirs, "late");
        assertThat(ConformanceBase.readText(ours, 4)).isEqualTo("late");
        ours.close();
        theirs.close();
    }

    @Test
    void aReconnectHandlerDoesNotTakeADetachForADisconnect() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        client.getProperties().put(ClientProperties.RECONNECT_HANDLER,
                new DetachAwareReconnectHandler(new ClientManager.ReconnectHandler() {
                    @Override
                    public boolean onDisconnect(CloseReason closeReason) {
                        asked.incrementAndGet();
                        return true;
                    }
                }));
        ClientSide side = new ClientSide();
        Session session = client.connectToServer(side, server.uri("/declared"));
        DetachedConnection ours = Detach.detach(session, CLIENT_DONE, side.handler()).get(10, TimeUnit.SECONDS);
        Probe.awaitHanded().close();
        side.closed.get(10, TimeUnit.SECONDS);
        assertThat(asked).hasValue(0);
        ours.close();
    }

    @Test
    void aThousandClientDetachesLeakNoThreads() throws Exception {
        try (ServerFixture.RunningServer echo = new TyrusFixture().start(Probe.EchoEndpoint.class)) {
            for (int i = 0; i < 20; i++) {
                detachAndEcho(echo);
            }
            int threadsBefore = Thread.activeCount();
            for (int i = 0; i < 1000; i++) {
                detachAndEcho(echo);
            }
            // Each client connection has a Grizzly transport of its own, shut down with the detached connection.
            assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore + 6);
        }
    }

    private void detachAndEcho(ServerFixture.RunningServer echo) throws Exception {
        ClientSide side = new ClientSide();
        Session session = client.connectToServer(side, echo.uri("/echo"));
        DetachedConnection connection = Detach.detach(session, CLIENT_DONE, side.handler()).get(10, TimeUnit.SECONDS);
        ConformanceBase.write(connection, "hi");
        connection.shutdownOutput();
        assertThat(ConformanceBase.readText(connection, 2)).isEqualTo("hi");
        assertThat(ConformanceBase.readToEnd(connection, 0)).isZero();
        connection.close();
    }

    private ServerFixture.RunningServer startSecure() throws Exception {
        trustTheTestKey();
        return new TyrusFixture().startSecure(TestKey.server(), Probe.ProbeEndpoint.class, Probe.DeclaredEndpoint.class);
    }

    @Test
    void overWssAClientDetachCarriesSixteenMebibytesEachWay() throws Exception {
        try (ServerFixture.RunningServer secure = startSecure()) {
            ClientSide side = new ClientSide();
            Session session = client.connectToServer(side, secure.uri("/declared"));
            side.firstWords = "early";
            DetachedConnection ours = Detach.detach(session, CLIENT_DONE, side.handler()).get(10, TimeUnit.SECONDS);
            DetachedConnection theirs = Probe.awaitHanded();
            assertThat(ours.sslSession()).isPresent();
            assertThat(theirs.sslSession()).isPresent();
            assertThat(ConformanceBase.readText(theirs, 5)).isEqualTo("early");
            exchangeSixteenMebibytes(ours, theirs);
            ours.close();
            assertThat(ConformanceBase.readToEnd(theirs, 0)).as("the client's close_notify ends the stream").isZero();
            theirs.close();
        }
    }

    @Test
    void overWssAServerDetachCarriesSixteenMebibytesEachWay() throws Exception {
        try (ServerFixture.RunningServer secure = startSecure()) {
            Probe.onText = s -> Detach.detach(s, new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye"), Probe.HAND_TO_TEST);
            ClientSide side = new ClientSide();
            side.detachOnPeerClose = true;
            side.firstWords = "early";
            Session session = client.connectToServer(side, secure.uri("/probe"));
            session.getBasicRemote().sendText("go");
            DetachedConnection ours = side.handed.get(10, TimeUnit.SECONDS);
            DetachedConnection theirs = Probe.awaitHanded();
            assertThat(ConformanceBase.readText(theirs, 5)).isEqualTo("early");
            exchangeSixteenMebibytes(ours, theirs);
            theirs.close();
            assertThat(ConformanceBase.readToEnd(ours, 0)).as("the server's close_notify ends the stream").isZero();
            ours.close();
        }
    }

    /** The byte-level wss server's end, once the client has connected and sent its close frame. */
    private SocketPeer serverPeer;

    /** Connects the client to a byte-level wss server and has it detach; returns the detach's future. */
    private CompletableFuture<DetachedConnection> detachAgainst(RawServerPeer server) throws Exception {
        ClientSide side = new ClientSide();
        CompletableFuture<Session> connecting = CompletableFuture.supplyAsync(() -> {
            try {
                return client.connectToServer(side, server.uri("/raw"));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        serverPeer = server.accept();
        CompletableFuture<DetachedConnection> stage =
                Detach.detach(connecting.get(10, TimeUnit.SECONDS), CLIENT_DONE, Detach.NO_DEADLINE, side.handler());
        assertThat(serverPeer.readFrameHex()).isEqualTo("880d" + "03e8" + ascii("client done"));
        return stage;
    }

    private void trustTheTestKey() throws Exception {
        client.getProperties().put(ClientProperties.SSL_ENGINE_CONFIGURATOR,
                new SslEngineConfigurator(TestKey.client(), true, false, false));
    }

    @Test
    void overWssTheReplyAndRawBytesInOneTlsRecordReachTheClient() throws Exception {
        trustTheTestKey();
        try (RawServerPeer server = new RawServerPeer(TestKey.server())) {
            CompletableFuture<DetachedConnection> stage = detachAgainst(server);
            // One write of the TLS socket, one record.
            serverPeer.writeHex(ConformanceBase.CLOSE_1000 + ConformanceBase.HELLO);
            DetachedConnection connection = stage.get(10, TimeUnit.SECONDS);
            assertThat(ConformanceBase.readText(connection, 5)).isEqualTo("hello");
            connection.close();
        }
    }

    @Test
    void overWssACloseNotifyWhileTheClientWaitsFailsItsDetach() throws Exception {
        trustTheTestKey();
        try (RawServerPeer server = new RawServerPeer(TestKey.server())) {
            CompletableFuture<DetachedConnection> stage = detachAgainst(server);
            serverPeer.shutdownOutput();
            assertThatThrownBy(() -> stage.get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SocketException.class);
        }
    }

    @Test
    void overWssATlsFailureWhileTheClientWaitsFailsItsDetachWithTheCause() throws Exception {
        trustTheTestKey();
        try (RawServerPeer server = new RawServerPeer(TestKey.server())) {
            CompletableFuture<DetachedConnection> stage = detachAgainst(server);
            // A record header and sixteen bytes that decrypt to nothing, around the TLS session.
            serverPeer.rawSocket().getOutputStream().write(Wire.hex("1703030010" + "00".repeat(16)));
            Throwable failure = catchThrowable(() -> stage.get(10, TimeUnit.SECONDS));
            assertThat(failure).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SocketException.class);
            assertThat(Stream.iterate(failure, Objects::nonNull, Throwable::getCause))
                    .anyMatch(cause -> cause instanceof SSLException);
        }
    }

    /** Both ways at once, each verified byte for byte. */
    private static void exchangeSixteenMebibytes(DetachedConnection a, DetachedConnection b) throws Exception {
        byte[] one = new byte[16 << 20];
        byte[] other = new byte[16 << 20];
        new java.util.Random(1).nextBytes(one);
        new java.util.Random(2).nextBytes(other);
        CompletableFuture<Void> aSends = sendAll(a, one);
        CompletableFuture<Void> bSends = sendAll(b, other);
        assertThat(Arrays.mismatch(ConformanceBase.read(b, one.length), one)).isEqualTo(-1);
        assertThat(Arrays.mismatch(ConformanceBase.read(a, other.length), other)).isEqualTo(-1);
        aSends.get(10, TimeUnit.SECONDS);
        bSends.get(10, TimeUnit.SECONDS);
    }

    private static CompletableFuture<Void> sendAll(DetachedConnection connection, byte[] bytes) {
        return CompletableFuture.runAsync(() -> {
            try {
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
                while (buffer.hasRemaining()) {
                    connection.write(buffer).get(10, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
