package org.wsdetach.it;

import jakarta.websocket.ClientEndpoint;
import jakarta.websocket.CloseReason;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import org.glassfish.tyrus.client.ClientManager;
import org.wsdetach.Detach;
import org.wsdetach.demo.RawEcho;
import org.wsdetach.tyrus.DetachingClientContainer;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The suites' cases with the sides swapped: the side under test is a Tyrus client whose endpoints mirror
 * {@link Probe}'s, and the byte-level peer is a server.
 */
final class TyrusClientSide {

    private static final Map<String, Class<?>> ENDPOINTS = Map.of(
            "/probe", ProbeClient.class, "/declared", DeclaredClient.class, "/declared-brief", BriefDeclaredClient.class,
            "/echo", EchoClient.class);

    private final ClientManager client = ClientManager.createClient(DetachingClientContainer.class.getName());

    /** Connects the client endpoint mirroring the server endpoint at {@code path} to a byte-level server. */
    SocketPeer connect(String path) throws Exception {
        try (RawServerPeer server = new RawServerPeer()) {
            CompletableFuture<Session> connecting = CompletableFuture.supplyAsync(() -> {
                try {
                    return client.connectToServer(ENDPOINTS.get(path), server.uri(path));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            SocketPeer peer = server.accept();
            connecting.get(10, TimeUnit.SECONDS);
            return peer;
        }
    }

    @ClientEndpoint
    public static class ProbeClient {
        @OnOpen
        public void open(Session session) throws Exception {
            Probe.Recorder.open(session);
        }

        @OnMessage
        public void text(Session session, String text) throws Exception {
            Probe.Recorder.text(session, text);
        }

        @OnClose
        public void close(Session session, CloseReason reason) {
            Probe.Recorder.close(session, reason);
        }
    }

    /** Clients read no {@code @DetachOnPeerClose}: the client registers its handler in {@code @OnOpen}. */
    @ClientEndpoint
    public static class DeclaredClient {
        @OnOpen
        public void open(Session session) {
            Detach.detachOnPeerClose(session, new Probe.DeclaredHandler());
        }

        @OnMessage
        public void text(Session session, String text) throws Exception {
            Probe.Recorder.text(session, text);
        }

        @OnClose
        public void close(Session session, CloseReason reason) {
            Probe.Recorder.close(session, reason);
        }
    }

    @ClientEndpoint
    public static class BriefDeclaredClient {
        @OnOpen
        public void open(Session session) {
            Detach.detachOnPeerClose(session, Duration.ofMillis(Probe.BRIEF_TIMEOUT_MILLIS), new Probe.DeclaredHandler());
        }

        @OnClose
        public void close(Session session, CloseReason reason) {
            Probe.Recorder.close(session, reason);
        }
    }

    @ClientEndpoint
    public static class EchoClient {
        @OnOpen
        public void open(Session session) {
            Detach.detachOnPeerClose(session, new RawEcho());
        }

        @OnMessage
        public String echo(String text) {
            return text;
        }
    }
}
