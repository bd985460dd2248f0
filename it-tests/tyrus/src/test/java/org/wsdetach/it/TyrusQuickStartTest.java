package org.wsdetach.it;

import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.Session;
import org.glassfish.tyrus.client.ClientManager;
import org.glassfish.tyrus.server.Server;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;
import org.wsdetach.quickstart.EchoEndpoint;
import org.wsdetach.tyrus.DetachingClientContainer;
import org.wsdetach.tyrus.DetachingServerContainerFactory;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The README's quick start on Tyrus, with its client side: a Tyrus client whose server detaches. */
class TyrusQuickStartTest extends QuickStartConformance {

    private Server server;
    private int port;

    @Override
    protected int startQuickStartServer() throws Exception {
        // README: tyrus-server
        // Tyrus does not pass its host on: the adapter binds the address in this property (default 0.0.0.0).
        Map<String, Object> properties = Map.of(DetachingServerContainerFactory.HOST, "127.0.0.1");
        // Port -1: any free port (Tyrus reads 0 as its default, 8025).
        Server server = new Server("127.0.0.1", -1, "/", properties, EchoEndpoint.class);
        server.start();
        int port = server.getPort();   // ws://127.0.0.1:<port>/echo
        // README: end
        this.server = server;
        this.port = port;
        return port;
    }

    @Override
    protected void stopQuickStartServer() {
        server.stop();
    }

    @Override
    protected String containerName() {
        return "Tyrus";
    }

    @Test
    void aClientWhoseServerDetachesRegistersItsHandlerBeforeAskingForTheDetach() throws Exception {
        CompletableFuture<DetachedConnection> handed = new CompletableFuture<>();
        // README: tyrus-client
        ClientManager client = ClientManager.createClient(DetachingClientContainer.class.getName());
        Session session = client.connectToServer(new Endpoint() {
            @Override
            public void onOpen(Session session, EndpointConfig config) {
            }
        }, ClientEndpointConfig.Builder.create().build(), URI.create("ws://127.0.0.1:" + port + "/echo"));
        // First the handler for the server's close frame, then the message that makes the server detach. The
        // other way round, the server's close frame may be processed before the handler is registered: the
        // registration then fails with IllegalStateException, and the connection closes.
        Detach.detachOnPeerClose(session, handed::complete);
        session.getBasicRemote().sendText("detach");
        // README: end

        DetachedConnection connection = handed.get(10, TimeUnit.SECONDS);
        assertThat(connection.peerCloseReason().getCloseCode()).isEqualTo(CloseReason.CloseCodes.NORMAL_CLOSURE);
        assertThat(connection.peerCloseReason().getReasonPhrase()).isEqualTo("detach");
        connection.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII))).get(10, TimeUnit.SECONDS);
        ByteBuffer echoed = ByteBuffer.allocate(5);
        while (echoed.hasRemaining()) {
            assertThat(connection.read(echoed).get(10, TimeUnit.SECONDS)).isPositive();
        }
        assertThat(new String(echoed.array(), StandardCharsets.US_ASCII)).isEqualTo("hello");
        connection.shutdownOutput();
        // The echo half-closes after us.
        assertThat(connection.read(ByteBuffer.allocate(1)).get(10, TimeUnit.SECONDS)).isEqualTo(-1);
        connection.close();
    }

    @Test
    void aRegistrationAfterTheServersCloseFrameSaysWhenItShouldHaveBeenMade() throws Exception {
        CompletableFuture<Session> closed = new CompletableFuture<>();
        ClientManager client = ClientManager.createClient(DetachingClientContainer.class.getName());
        Session session = client.connectToServer(new Endpoint() {
            @Override
            public void onOpen(Session session, EndpointConfig config) {
            }

            @Override
            public void onClose(Session session, CloseReason reason) {
                closed.complete(session);
            }
        }, ClientEndpointConfig.Builder.create().build(), URI.create("ws://127.0.0.1:" + port + "/echo"));
        session.getBasicRemote().sendText("detach");
        closed.get(10, TimeUnit.SECONDS);

        assertThatThrownBy(() -> Detach.detachOnPeerClose(session, connection -> { }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is not open")
                .hasMessageContaining("register Detach.detachOnPeerClose (or @DetachOnPeerClose) before the peer's "
                        + "close frame arrives");
    }
}
