package org.wsdetach.it;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerApplicationConfig;
import jakarta.websocket.server.ServerEndpoint;
import jakarta.websocket.server.ServerEndpointConfig;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachOnPeerClose;
import org.wsdetach.DetachedConnection;
import org.wsdetach.demo.RawEcho;

import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The suite's window into the server: container-neutral endpoints whose behaviour each test sets through
 * static hooks, and which record what the container does to them. Tests run one at a time.
 */
final class Probe {

    interface SessionAction {
        void run(Session session) throws Exception;
    }

    static volatile SessionAction onOpen;
    static volatile SessionAction onText;
    /** Runs inside {@code @OnClose}, before the close is recorded. */
    static volatile SessionAction onClose;
    static final BlockingQueue<CloseReason> closes = new LinkedBlockingQueue<>();
    /** The id of the session of each recorded close, in the order of {@link #closes}. */
    static final BlockingQueue<String> closedSessionIds = new LinkedBlockingQueue<>();
    /** What the test's handlers were told by {@link DetachHandler#onDetachFailed}. */
    static final BlockingQueue<DetachFailure> detachFailures = new LinkedBlockingQueue<>();
    static volatile CompletableFuture<DetachedConnection> handed = new CompletableFuture<>();
    static volatile CompletableFuture<Boolean> openInOnClose = new CompletableFuture<>();

    private Probe() {
    }

    static void reset() {
        onOpen = session -> { };
        onText = session -> { };
        onClose = session -> { };
        closes.clear();
        closedSessionIds.clear();
        detachFailures.clear();
        handed = new CompletableFuture<>();
        openInOnClose = new CompletableFuture<>();
        greeting = null;
    }

    /** The handler tests give to detach: it hands the connection, or the failure, to the test. */
    static final DetachHandler HAND_TO_TEST = new DetachHandler() {
        @Override
        public void onDetached(DetachedConnection connection) {
            handed.complete(connection);
        }

        @Override
        public void onDetachFailed(String sessionId, Exception cause) {
            detachFailures.add(new DetachFailure(sessionId, cause));
        }
    };

    /** What {@link DetachHandler#onDetachFailed} was told. */
    record DetachFailure(String sessionId, Exception cause) {
    }

    static DetachFailure awaitDetachFailure() throws InterruptedException {
        DetachFailure failure = detachFailures.poll(10, TimeUnit.SECONDS);
        if (failure == null) {
            throw new AssertionError("onDetachFailed was not called within 10 s");
        }
        return failure;
    }

    static DetachedConnection awaitHanded() throws Exception {
        return handed.get(10, TimeUnit.SECONDS);
    }

    static CloseReason awaitClose() throws InterruptedException {
        CloseReason reason = closes.poll(10, TimeUnit.SECONDS);
        if (reason == null) {
            throw new AssertionError("@OnClose did not run within 10 s");
        }
        return reason;
    }

    /**
     * Records what it sees and runs the test's hooks. Annotations are not inherited, so each endpoint
     * declares its own methods and delegates here.
     */
    static final class Recorder {
        static void open(Session session) throws Exception {
            onOpen.run(session);
        }

        static void text(Session session, String text) throws Exception {
            if (text.startsWith("echo:")) {
                session.getBasicRemote().sendText(text);
                return;
            }
            onText.run(session);
        }

        static void close(Session session, CloseReason reason) {
            try {
                onClose.run(session);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            openInOnClose.complete(session.isOpen());
            closedSessionIds.add(session.getId());
            closes.add(reason);
        }
    }

    @ServerEndpoint("/probe")
    public static class ProbeEndpoint {
        @OnOpen
        public void open(Session session) throws Exception {
            Recorder.open(session);
        }

        @OnMessage
        public void text(Session session, String text) throws Exception {
            Recorder.text(session, text);
        }

        @OnClose
        public void close(Session session, CloseReason reason) {
            Recorder.close(session, reason);
        }
    }

    /** Every session detaches on the peer's close frame, declared with the annotation. */
    @ServerEndpoint("/declared")
    @DetachOnPeerClose(DeclaredHandler.class)
    public static class DeclaredEndpoint {
        @OnMessage
        public void text(Session session, String text) throws Exception {
            Recorder.text(session, text);
        }

        @OnClose
        public void close(Session session, CloseReason reason) {
            Recorder.close(session, reason);
        }
    }

    /** As {@link DeclaredEndpoint}, but a close frame must complete within {@value #BRIEF_TIMEOUT_MILLIS} ms. */
    @ServerEndpoint("/declared-brief")
    @DetachOnPeerClose(value = DeclaredHandler.class, timeoutMillis = BRIEF_TIMEOUT_MILLIS)
    public static class BriefDeclaredEndpoint {
        @OnClose
        public void close(Session session, CloseReason reason) {
            Recorder.close(session, reason);
        }
    }

    static final long BRIEF_TIMEOUT_MILLIS = 300;

    /** Detaches on the peer's close and echoes raw bytes until the peer's end of stream, as the demo does. */
    @ServerEndpoint("/echo")
    @DetachOnPeerClose(RawEcho.class)
    public static class EchoEndpoint {
        @OnMessage
        public String echo(String text) {
            return text;
        }
    }

    /**
     * A programmatic endpoint, registered by {@link ProgrammaticConfig} at {@code /programmatic}: it records as
     * {@link ProbeEndpoint} does, and its class declares a handler for the peer's close as
     * {@link DeclaredEndpoint}'s does.
     */
    @DetachOnPeerClose(DeclaredHandler.class)
    public static class ProgrammaticEndpoint extends Endpoint {
        @Override
        public void onOpen(Session session, EndpointConfig config) {
            session.addMessageHandler(String.class, text -> {
                try {
                    Recorder.text(session, text);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        @Override
        public void onClose(Session session, CloseReason reason) {
            Recorder.close(session, reason);
        }
    }

    /** Registers {@link ProgrammaticEndpoint}, and whatever annotated endpoints the container found. */
    public static class ProgrammaticConfig implements ServerApplicationConfig {
        @Override
        public Set<ServerEndpointConfig> getEndpointConfigs(Set<Class<? extends Endpoint>> endpointClasses) {
            return Set.of(ServerEndpointConfig.Builder.create(ProgrammaticEndpoint.class, "/programmatic").build());
        }

        @Override
        public Set<Class<?>> getAnnotatedEndpointClasses(Set<Class<?>> scanned) {
            return scanned;
        }
    }

    /** What {@link DeclaredHandler} writes the moment it has the connection, right behind the reply close. */
    static volatile String greeting;

    public static class DeclaredHandler implements DetachHandler {
        @Override
        public void onDetached(DetachedConnection connection) {
            if (greeting != null) {
                connection.write(java.nio.ByteBuffer.wrap(greeting.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
            handed.complete(connection);
        }

        @Override
        public void onDetachFailed(String sessionId, Exception cause) {
            HAND_TO_TEST.onDetachFailed(sessionId, cause);
        }
    }
}
