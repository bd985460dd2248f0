package org.wsdetach.it;

import jakarta.websocket.ClientEndpoint;
import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpoint;
import org.eclipse.jetty.http.HostPortHttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpScheme;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.DataFrame;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.SettingsFrame;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.component.LifeCycle;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.text;

/**
 * What the Jetty adapter refuses, on Jetty's own terms: sessions of WebSocket over HTTP/2 (RFC 8441), sessions
 * of Jetty's Jakarta WebSocket client, and sessions of a web application without {@code DetachInitializer}. Each
 * refusal is an {@link UnsupportedOperationException} that leaves the session as it was. Everything here but
 * {@link JettyLayer} and the Jakarta client (found through {@link ContainerProvider}) is core Jetty, so the
 * class runs unchanged on ee10 and ee11.
 */
class JettyAdapterUnsupportedTest {

    private static final CloseReason BYE = new CloseReason(CloseCodes.NORMAL_CLOSURE, "");
    private static final long TIMEOUT_SECONDS = 10;

    @BeforeEach
    void reset() {
        RefusalEndpoint.reset();
        ClientProbe.reset();
    }

    /**
     * The server endpoint: "go" tries a detach and records what it threw (null if it did not), anything
     * starting with "echo:" is sent back, "connect:" followed by a URI connects a {@link ClientProbe} there.
     */
    @ServerEndpoint("/refusal")
    public static class RefusalEndpoint {
        static volatile CompletableFuture<Throwable> refusal;
        static volatile CompletableFuture<String> sessionId;
        /** The client session that "connect:" followed by a URI opens through the server's own container. */
        static volatile CompletableFuture<Session> outbound;

        static void reset() {
            refusal = new CompletableFuture<>();
            sessionId = new CompletableFuture<>();
            outbound = new CompletableFuture<>();
        }

        @OnMessage
        public void text(Session session, String text) throws Exception {
            if (text.startsWith("echo:")) {
                session.getBasicRemote().sendText(text);
                return;
            }
            if (text.startsWith("connect:")) {
                // The server's own container is a client container too, as the Jakarta API has it.
                outbound.complete(session.getContainer().connectToServer(ClientProbe.class,
                        URI.create(text.substring("connect:".length()))));
                return;
            }
            sessionId.complete(session.getId());
            refusal.complete(refusalOf(session));
        }
    }

    /** What {@link Detach#detach} throws for {@code session}; null if it throws nothing. */
    private static Throwable refusalOf(Session session) {
        try {
            Detach.detach(session, BYE, connection -> { });
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }

    // ---- WebSocket over HTTP/2 ----

    @Test
    void aSessionOverHttp2IsUnsupportedAndKeepsWorking() throws Exception {
        refusedOverHttp2((refusal, sessionId) ->
                assertThat(refusal).isInstanceOf(UnsupportedOperationException.class));
    }

    @Test
    void theRefusalOverHttp2SaysWhy() throws Exception {
        refusedOverHttp2((refusal, sessionId) ->
                // JettyConnection.detachable's words, naming the end point of Jetty's HTTP/2 stream.
                assertThat(refusal).isInstanceOf(UnsupportedOperationException.class)
                        .hasMessage("session " + sessionId + " cannot be detached: it runs over"
                                + " org.eclipse.jetty.http2.server.internal.ServerHTTP2StreamEndPoint, not a TCP"
                                + " connection of its own (WebSocket over HTTP/2, RFC 8441, shares one)"));
    }

    /**
     * Opens a WebSocket over HTTP/2 (an extended CONNECT, RFC 8441) on an h2c-only connector of an
     * adapter-enabled application, has the server session try a detach, gives {@code check} what it threw and
     * the session's id, and then checks that the session still echoes and closes as usual.
     */
    private static void refusedOverHttp2(BiConsumer<Throwable, String> check) throws Exception {
        Server server = new Server();
        HTTP2CServerConnectionFactory h2c = new HTTP2CServerConnectionFactory(new HttpConfiguration());
        // RFC 8441's SETTINGS_ENABLE_CONNECT_PROTOCOL, without which no client may send an extended CONNECT.
        h2c.setConnectProtocolEnabled(true);
        // h2c alone: the connector speaks nothing but HTTP/2 with prior knowledge, so a session is RFC 8441's.
        ServerConnector connector = new ServerConnector(server, h2c);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(JettyLayer.context(true, RefusalEndpoint.class));
        HTTP2Client client = new HTTP2Client();
        try {
            server.start();
            client.start();
            try (Http2Peer peer = Http2Peer.connect(client, connector.getLocalPort(), "/refusal")) {
                peer.writeHex(text("go"));
                Throwable refusal = RefusalEndpoint.refusal.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                check.accept(refusal, RefusalEndpoint.sessionId.get());

                peer.writeHex(text("echo:still served"));
                assertThat(peer.readFrameHex()).isEqualTo("8111" + Wire.ascii("echo:still served"));
                peer.writeHex(Wire.frame(0x8, "03e8"));
                assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            }
        } finally {
            client.stop();
            server.stop();
        }
    }

    /**
     * The client end of a WebSocket over one HTTP/2 stream, at the byte level as {@link RawPeer} is over TCP:
     * Jetty's low-level HTTP/2 client sends the extended CONNECT and carries the frames the test writes
     * ({@link Wire}'s notation, masked) in DATA frames; what the server sends is read in frames. It is not
     * Jetty's WebSocket client over HttpClient: in Jetty 12.1.14 that one now and then loses the first frame the
     * server sends (its HttpReceiverOverHTTP2 still reads the CONNECT's response content after the tunnel is set
     * up, and takes that DATA frame as content).
     */
    static final class Http2Peer implements org.eclipse.jetty.http2.api.Stream.Listener, AutoCloseable {
        private final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
        private final CompletableFuture<Integer> status = new CompletableFuture<>();
        private final org.eclipse.jetty.http2.api.Session session;
        private org.eclipse.jetty.http2.api.Stream stream;
        private ByteBuffer pending = ByteBuffer.allocate(0);

        private Http2Peer(org.eclipse.jetty.http2.api.Session session) {
            this.session = session;
        }

        static Http2Peer connect(HTTP2Client client, int port, String path) throws Exception {
            CompletableFuture<Integer> connectProtocol = new CompletableFuture<>();
            org.eclipse.jetty.http2.api.Session session = client.connect(new InetSocketAddress("127.0.0.1", port),
                    new org.eclipse.jetty.http2.api.Session.Listener() {
                        @Override
                        public void onSettings(org.eclipse.jetty.http2.api.Session session, SettingsFrame frame) {
                            connectProtocol.complete(frame.getSettings().get(SettingsFrame.ENABLE_CONNECT_PROTOCOL));
                        }
                    }).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            Http2Peer peer = new Http2Peer(session);
            try {
                // An extended CONNECT waits for the server's permission in its SETTINGS (RFC 8441 section 3).
                assertThat(connectProtocol.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo(1);
                MetaData.ConnectRequest connect = new MetaData.ConnectRequest(HttpScheme.HTTP,
                        new HostPortHttpField("127.0.0.1:" + port), path,
                        HttpFields.build().put(HttpHeader.SEC_WEBSOCKET_VERSION, "13"), "websocket");
                peer.stream = session.newStream(new HeadersFrame(connect, null, false), peer)
                        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                assertThat(peer.status.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo(200);
            } catch (Exception | AssertionError e) {
                peer.close();
                throw e;
            }
            return peer;
        }

        @Override
        public void onHeaders(org.eclipse.jetty.http2.api.Stream stream, HeadersFrame frame) {
            if (frame.getMetaData() instanceof MetaData.Response) {
                status.complete(((MetaData.Response) frame.getMetaData()).getStatus());
                stream.demand();
            }
        }

        @Override
        public void onDataAvailable(org.eclipse.jetty.http2.api.Stream stream) {
            while (true) {
                org.eclipse.jetty.http2.api.Stream.Data data = stream.readData();
                if (data == null) {
                    stream.demand();
                    return;
                }
                ByteBuffer bytes = data.frame().getByteBuffer();
                byte[] copy = new byte[bytes.remaining()];
                bytes.get(copy);
                data.release();
                received.add(copy);
                if (data.frame().isEndStream()) {
                    return;
                }
            }
        }

        /** Writes {@code wire} ({@link Wire}'s notation, masked as a client's) in one DATA frame. */
        void writeHex(String wire) throws Exception {
            stream.data(new DataFrame(stream.getId(), ByteBuffer.wrap(Wire.encode(wire, true)), false))
                    .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }

        /** The next frame from the server, as {@link SocketPeer#readFrameHex} gives it (short frames only). */
        String readFrameHex() throws Exception {
            byte[] header = read(2);
            assertThat(header[1] & 0x80).as("mask bit of a server frame").isZero();
            int length = header[1] & 0x7F;
            assertThat(length).as("payload length, short frames only").isLessThan(126);
            return Wire.hexOf(header) + Wire.hexOf(read(length));
        }

        private byte[] read(int length) throws Exception {
            byte[] bytes = new byte[length];
            for (int at = 0; at < length; ) {
                if (!pending.hasRemaining()) {
                    byte[] next = received.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                    if (next == null) {
                        throw new AssertionError("no bytes from the server within " + TIMEOUT_SECONDS + " s");
                    }
                    pending = ByteBuffer.wrap(next);
                }
                int n = Math.min(length - at, pending.remaining());
                pending.get(bytes, at, n);
                at += n;
            }
            return bytes;
        }

        @Override
        public void close() {
            session.close(ErrorCode.NO_ERROR.code, "done", org.eclipse.jetty.util.Callback.NOOP);
        }
    }

    // ---- Jetty's Jakarta client ----

    @Test
    void sessionsOfJettysJakartaClientAreUnsupportedAndKeepWorking() throws Exception {
        WebSocketContainer container = ContainerProvider.getWebSocketContainer();
        assertThat(container.getClass().getName()).startsWith("org.eclipse.jetty." + JettyLayer.NAME + ".");
        try (ServerFixture.RunningServer server = new JettyFixture().start(RefusalEndpoint.class);
             Session session = container.connectToServer(ClientProbe.class, server.uri("/refusal"))) {
            Throwable refusal = ClientProbe.refusal.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertThat(refusal).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("session " + session.getId() + " is a session of Jetty's WebSocket client, which"
                            + " wsdetach does not take over");

            session.getBasicRemote().sendText("echo:still served");
            assertThat(ClientProbe.texts.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo("echo:still served");
            assertThat(session.isOpen()).isTrue();
            closeCleanly(session);
        } finally {
            ((LifeCycle) container).stop();
        }
    }

    @Test
    void clientSessionsOfTheServersOwnContainerAreUnsupportedAndKeepWorking() throws Exception {
        clientOfTheServersContainer((refusal, session) ->
                assertThat(refusal).isInstanceOf(UnsupportedOperationException.class));
    }

    @Test
    void theRefusalOfAClientSessionOfTheServersOwnContainerSaysItIsAClient() throws Exception {
        clientOfTheServersContainer((refusal, session) ->
                assertThat(refusal).isInstanceOf(UnsupportedOperationException.class)
                        .hasMessage("session " + session.getId() + " is a session of Jetty's WebSocket client, which"
                                + " wsdetach does not take over"));
    }

    /**
     * Has a server session of an adapter-enabled application open a client session through its own container
     * (to the same server), gives {@code check} what a detach in the client's {@code @OnOpen} threw and the
     * client session, and then checks that the client session still echoes.
     */
    private static void clientOfTheServersContainer(BiConsumer<Throwable, Session> check) throws Exception {
        try (ServerFixture.RunningServer server = new JettyFixture().start(RefusalEndpoint.class);
             SocketPeer peer = RawPeer.connect(server.uri("/refusal"), null)) {
            peer.writeHex(text("connect:" + server.uri("/refusal")));
            Session session = RefusalEndpoint.outbound.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            try {
                assertThat(session.getContainer()).isInstanceOf(ServerContainer.class);
                check.accept(ClientProbe.refusal.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), session);

                session.getBasicRemote().sendText("echo:still served");
                assertThat(ClientProbe.texts.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo("echo:still served");
                assertThat(session.isOpen()).isTrue();
                closeCleanly(session);
            } finally {
                session.close();
            }
            closeCleanly(peer);
        }
    }

    /** The client end: it tries a detach in {@code @OnOpen} and records the texts it receives. */
    @ClientEndpoint
    public static class ClientProbe {
        static volatile CompletableFuture<Throwable> refusal;
        static final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
        static volatile CompletableFuture<CloseReason> closed;

        static void reset() {
            refusal = new CompletableFuture<>();
            texts.clear();
            closed = new CompletableFuture<>();
        }

        @OnOpen
        public void open(Session session) {
            refusal.complete(refusalOf(session));
        }

        @OnMessage
        public void text(String text) {
            texts.add(text);
        }

        @OnClose
        public void close(CloseReason reason) {
            closed.complete(reason);
        }
    }

    /** Closes a client session and waits for the server's close frame: the server's session ends cleanly. */
    private static void closeCleanly(Session session) throws Exception {
        session.close(BYE);
        assertThat(ClientProbe.closed.get(TIMEOUT_SECONDS, TimeUnit.SECONDS).getCloseCode())
                .isEqualTo(CloseCodes.NORMAL_CLOSURE);
    }

    /** Sends a close frame 1000 and reads the server's answer. */
    private static void closeCleanly(SocketPeer peer) throws Exception {
        peer.writeHex(Wire.frame(0x8, "03e8"));
        assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
    }

    // ---- No DetachInitializer ----

    @Test
    void withoutTheInitializerADetachIsUnsupportedAndSaysWhatToAdd() throws Exception {
        try (ServerFixture.RunningServer stock = new JettyFixture().startStock(RefusalEndpoint.class);
             SocketPeer peer = RawPeer.connect(stock.uri("/refusal"), null)) {
            peer.writeHex(text("go"));
            assertThat(RefusalEndpoint.refusal.get(TIMEOUT_SECONDS, TimeUnit.SECONDS))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessage("session " + RefusalEndpoint.sessionId.get() + " was not upgraded through wsdetach:"
                            + " add org.wsdetach.jetty.DetachInitializer to its web application (Jetty finds it in"
                            + " WEB-INF/lib by itself; embedded Jetty adds it as its javadoc shows)");
            peer.writeHex(text("echo:on"));
            assertThat(peer.readFrameHex()).isEqualTo("8107" + Wire.ascii("echo:on"));
            closeCleanly(peer);
        }
    }
}
