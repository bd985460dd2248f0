package org.wsdetach.it;

import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.Session;
import org.glassfish.tyrus.client.ClientManager;
import org.glassfish.tyrus.server.Server;
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

/**
 * Run by {@link ModulePathTest} in a JVM of its own, wsdetach and Tyrus on the module path: the quick start's
 * server, and a Tyrus client whose server detaches. Prints the modules, then {@code echoed hello, then -1}, or the
 * exception the client's registration failed with. With the argument {@code wss}: a server-side detach over
 * {@code wss} ({@link ModulePathDetach}) instead, and what it printed.
 */
public final class ModulePathMain {

    private ModulePathMain() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("modules " + Detach.class.getModule().getName() + " "
                + DetachingClientContainer.class.getModule().getName());
        if (args.length > 0 && args[0].equals("wss")) {
            System.out.println("grizzly " + org.glassfish.grizzly.Connection.class.getModule().getName());
            try (ServerFixture.RunningServer server = new TyrusFixture().startSecure(TestKey.server(),
                    ModulePathDetach.Endpoint.class)) {
                ModulePathDetach.run(server.uri("/detach"), TestKey.client().getSocketFactory());
            }
            return;
        }
        Server server = new Server("127.0.0.1", -1, "/", Map.of(DetachingServerContainerFactory.HOST, "127.0.0.1"),
                EchoEndpoint.class);
        server.start();
        try {
            ClientManager client = ClientManager.createClient(DetachingClientContainer.class.getName());
            Session session = client.connectToServer(new Endpoint() {
                @Override
                public void onOpen(Session session, EndpointConfig config) {
                }
            }, ClientEndpointConfig.Builder.create().build(), URI.create("ws://127.0.0.1:" + server.getPort() + "/echo"));
            CompletableFuture<DetachedConnection> handed = new CompletableFuture<>();
            try {
                Detach.detachOnPeerClose(session, handed::complete);
            } catch (UnsupportedOperationException e) {
                System.out.println("refused " + e.getMessage());
                return;
            }
            session.getBasicRemote().sendText("detach");
            try (DetachedConnection connection = handed.get(10, TimeUnit.SECONDS)) {
                connection.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII))).get(10, TimeUnit.SECONDS);
                ByteBuffer echoed = ByteBuffer.allocate(5);
                while (echoed.hasRemaining() && connection.read(echoed).get(10, TimeUnit.SECONDS) >= 0) {
                    // until all five bytes are back
                }
                connection.shutdownOutput();
                int end = connection.read(ByteBuffer.allocate(1)).get(10, TimeUnit.SECONDS);
                System.out.println("echoed " + new String(echoed.array(), StandardCharsets.US_ASCII) + ", then " + end);
            }
        } finally {
            server.stop();
        }
    }
}
