package org.wsdetach.it;

import jakarta.websocket.ClientEndpoint;
import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.OnClose;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;
import static org.wsdetach.it.Wire.text;

/**
 * Sessions that never detach, peers nobody here wrote, resources over many detaches, and the detached
 * connection's flow control.
 */
public abstract class ConnectionConformance extends ConformanceBase {

    static final CloseReason BYE = new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye");

    /** The bytes a peer receives, handshake included, when it plays {@code script} against {@code target}. */
    interface Script {
        void play(RawPeer peer) throws Exception;
    }

    private byte[] wire(ServerFixture.RunningServer target, Script script) throws Exception {
        try (RawPeer peer = RawPeer.connect(target.uri("/probe"))) {
            script.play(peer);
            byte[] response = peer.handshakeResponse();
            byte[] rest = peer.readUntilClosed();
            byte[] all = new byte[response.length + rest.length];
            System.arraycopy(response, 0, all, 0, response.length);
            System.arraycopy(rest, 0, all, response.length, rest.length);
            return all;
        }
    }

    private void assertSameWireAsStock(Script script) throws Exception {
        byte[] withDetach = wire(server, script);
        Probe.awaitClose();
        byte[] stock;
        try (ServerFixture.RunningServer plain = fixture().startStock(Probe.ProbeEndpoint.class)) {
            stock = wire(plain, script);
            Probe.awaitClose();
        }
        assertThat(Wire.hexOf(withoutDate(withDetach))).isEqualTo(Wire.hexOf(withoutDate(stock)));
    }

    /** The wire with the value of a handshake's Date header (Jetty sends one) left out: it names the second. */
    private static byte[] withoutDate(byte[] wire) {
        String text = new String(wire, java.nio.charset.StandardCharsets.ISO_8859_1);
        return text.replaceFirst("\r\nDate: [^\r]*\r\n", "\r\nDate: \r\n")
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    @Test
    void aSessionWithoutHandlerBehavesAsStockOnTheWire() throws Exception {
        assertSameWireAsStock(peer -> peer.writeHex(text("echo:hi") + frame(0x9, ascii("p"))
                + frame(0x2, "0102") + CLOSE_1000));
    }

    @Test
    void aSessionClosedByTheServerBehavesAsStockOnTheWire() throws Exception {
        Probe.onText = s -> s.close(new CloseReason(CloseCodes.GOING_AWAY, "later"));
        assertSameWireAsStock(peer -> {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo("8807" + "03e9" + ascii("later"));
            peer.writeHex(CLOSE_1000);
        });
    }

    @Test
    void bytesBehindACloseFrameOfASessionWithoutHandlerMeetStockTreatment() throws Exception {
        assertSameWireAsStock(peer -> peer.writeHex(CLOSE_1000 + HELLO));
    }

    @Test
    void theJdkClientAsPeerGetsTheCloseAndTheHandlerSeesItsEndOfStream() throws Exception {
        Probe.onText = s -> Detach.detach(s, BYE, Probe.HAND_TO_TEST);
        CompletableFuture<String> jdkSawClose = new CompletableFuture<>();
        WebSocket webSocket = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(server.uri("/probe"), new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                        jdkSawClose.complete(statusCode + " " + reason);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
        webSocket.sendText("go", true);
        DetachedConnection connection = Probe.awaitHanded();
        assertThat(jdkSawClose.get(10, TimeUnit.SECONDS)).isEqualTo("1000 bye");
        assertThat(readToEnd(connection, 0)).isZero();
        connection.close();
    }

    @ClientEndpoint
    public static class StockClient {
        final CompletableFuture<CloseReason> closed = new CompletableFuture<>();

        @OnClose
        public void onClose(CloseReason reason) {
            closed.complete(reason);
        }
    }

    @Test
    void theContainersOwnClientAsPeerInBothDirections() throws Exception {
        WebSocketContainer client = ContainerProvider.getWebSocketContainer();
        // Tyrus' client shuts its executors down when its last session closes, even while a sendText on that
        // session is still returning; an idle session keeps them up.
        Session keeper = client.connectToServer(new StockClient(), server.uri("/probe"));

        Probe.onText = s -> Detach.detach(s, BYE, Probe.HAND_TO_TEST);
        StockClient serverDetaches = new StockClient();
        Session first = client.connectToServer(serverDetaches, server.uri("/probe"));
        first.getBasicRemote().sendText("go");
        DetachedConnection detachedByUs = Probe.awaitHanded();
        assertThat(serverDetaches.closed.get(10, TimeUnit.SECONDS).getReasonPhrase()).isEqualTo("bye");
        assertThat(endOfStreamOrReset(detachedByUs)).isTrue();
        detachedByUs.close();

        Probe.reset();
        StockClient clientCloses = new StockClient();
        Session second = client.connectToServer(clientCloses, server.uri("/declared"));
        second.close(new CloseReason(CloseCodes.NORMAL_CLOSURE, "client done"));
        DetachedConnection detachedByPeer = Probe.awaitHanded();
        assertThat(detachedByPeer.peerCloseReason().getReasonPhrase()).isEqualTo("client done");
        assertThat(endOfStreamOrReset(detachedByPeer)).isTrue();
        detachedByPeer.close();
        keeper.close();
    }

    /** A peer that does not detach closes TCP after the close frames: a read ends, one way or the other. */
    private static boolean endOfStreamOrReset(DetachedConnection connection) throws Exception {
        try {
            return connection.read(ByteBuffer.allocate(1)).get(10, TimeUnit.SECONDS) == -1;
        } catch (ExecutionException e) {
            return e.getCause() instanceof IOException;
        }
    }

    @Test
    void aProgrammaticEndpointDetachesInBothDirections() throws Exception {
        try (ServerFixture.RunningServer programmatic = fixture().start(Probe.ProgrammaticConfig.class)) {
            try (SocketPeer peer = RawPeer.connect(programmatic.uri("/programmatic"), tls())) {
                DetachedConnection connection = detachOnPeersClose(peer);
                write(connection, "peer");
                assertThat(peer.readHex(4)).isEqualTo(ascii("peer"));
                connection.close();
            }
            assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);

            Probe.handed = new CompletableFuture<>();
            Probe.onText = s -> Detach.detach(s, BYE, Probe.HAND_TO_TEST);
            try (SocketPeer peer = RawPeer.connect(programmatic.uri("/programmatic"), tls())) {
                peer.writeHex(text("go"));
                assertThat(peer.readFrameHex()).isEqualTo("8805" + "03e8" + ascii("bye"));
                peer.writeHex(CLOSE_1000 + HELLO);
                DetachedConnection connection = Probe.awaitHanded();
                assertThat(readText(connection, 5)).isEqualTo("hello");
                connection.close();
            }
            CloseReason closed = Probe.awaitClose();
            assertThat(closed.getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
            assertThat(closed.getReasonPhrase()).isEqualTo("bye");
        }
    }

    @Test
    void aThousandDetachesLeakNoThreadsNorConnections() throws Exception {
        // The witness stays open throughout: Tomcat starts a background thread whenever its open sessions go
        // from none to one, and ends it a second after they go back to none.
        try (ServerFixture.RunningServer echo = fixture().start(Probe.EchoEndpoint.class);
             RawPeer witness = RawPeer.connect(echo.uri("/echo"))) {
            for (int i = 0; i < 50; i++) {
                detachAndEcho(echo);
            }
            int threadsBefore = Thread.activeCount();
            long wsdetachThreadsBefore = wsdetachThreads();
            long descriptorsBefore = openDescriptors();
            for (int i = 0; i < 1000; i++) {
                detachAndEcho(echo);
            }
            // wsdetach's own threads are fixed; the container's pools may grow by a few on a loaded machine (Jetty's
            // and Tomcat's start threads on demand, up to their maximum), but not with the number of detaches.
            assertThat(wsdetachThreads()).isEqualTo(wsdetachThreadsBefore);
            assertThat(Thread.activeCount()).isLessThanOrEqualTo(threadsBefore + 10);
            if (descriptorsBefore >= 0) {
                assertThat(openDescriptors()).isLessThanOrEqualTo(descriptorsBefore + 10);
            }
            witness.writeHex(text("still alive"));
            assertThat(witness.readFrameHex()).isEqualTo("810b" + ascii("still alive"));
        }
    }

    private static long wsdetachThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(thread -> thread.getName().startsWith("wsdetach"))
                .count();
    }

    private static void detachAndEcho(ServerFixture.RunningServer echo) throws Exception {
        try (RawPeer peer = RawPeer.connect(echo.uri("/echo"))) {
            peer.writeHex(CLOSE_1000 + HELLO);
            peer.shutdownOutput();
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            assertThat(Wire.hexOf(peer.readToEnd(5))).isEqualTo(HELLO);
        }
    }

    private static long openDescriptors() throws IOException {
        Path fds = Path.of("/proc/self/fd");
        if (!Files.isDirectory(fds)) {
            return -1;
        }
        try (var list = Files.list(fds)) {
            return list.count();
        }
    }

    @Test
    void stoppingTheServerClosesItsDetachedConnections() throws Exception {
        try (SocketPeer peer = peer("/declared")) {
            assertServerStopClosesTheDetachedConnection(peer, detachOnPeersClose(peer));
        }
    }

    @Test
    void aServerThatFailsToStartLeavesNoThreadBehind() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            long before = detachThreads();
            for (int attempt = 0; attempt < 3; attempt++) {
                assertThatThrownBy(() -> fixture().startOn(taken.getLocalPort(), Probe.ProbeEndpoint.class).close())
                        .as("starting on a taken port").hasRootCauseInstanceOf(java.net.BindException.class);
            }
            assertThat(detachThreads()).isEqualTo(before);
        }
    }

    /** The server threads of the detach core, named after it ("wsdetach-io", "wsdetach-deadlines"). */
    private static long detachThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().startsWith("wsdetach-")
                        && !thread.getName().startsWith("wsdetach-client"))
                .count();
    }

    @Test
    void aHandlerThatDoesNotReadStopsThePeerInsteadOfBeingBuffered() throws Exception {
        Probe.onText = s -> Detach.detach(s, BYE, Probe.HAND_TO_TEST);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            peer.readFrameHex();
            peer.writeHex(CLOSE_1000);
            DetachedConnection connection = Probe.awaitHanded();
            assertFloodWaitsForReads(peer, connection);
            connection.close();
        }
    }
}
