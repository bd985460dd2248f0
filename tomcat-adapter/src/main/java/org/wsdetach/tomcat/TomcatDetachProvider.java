package org.wsdetach.tomcat;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerContainer;
import org.apache.tomcat.websocket.WsSession;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;
import org.wsdetach.core.DetachableConnection;
import org.wsdetach.spi.DetachProvider;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Detaches the server sessions of Tomcat's NIO connector in web applications that {@link DetachInitializer}
 * has set up. Found by {@link java.util.ServiceLoader}; applications do not use it directly. It loads
 * without Tomcat on the class path and then supports nothing.
 *
 * <p>{@link DetachedConnection#unwrap} offers the {@link java.nio.channels.SocketChannel}, and for {@code wss}
 * the {@link javax.net.ssl.SSLEngine}.
 */
public final class TomcatDetachProvider implements DetachProvider {

    private static final Class<?> TOMCAT_SESSION = tomcatSession();

    private static Class<?> tomcatSession() {
        try {
            return Class.forName("org.apache.tomcat.websocket.WsSession", false,
                    TomcatDetachProvider.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return null;
        }
    }

    @Override
    public boolean supports(Session session) {
        return TOMCAT_SESSION != null && TOMCAT_SESSION.isInstance(session);
    }

    @Override
    public CompletableFuture<DetachedConnection> detach(Session session, CloseReason closeReason, Duration timeout,
                                                        DetachHandler handler) {
        return coreOf(session).detach(closeReason, timeout, handler);
    }

    @Override
    public void detachOnPeerClose(Session session, Duration timeout, DetachHandler handler) {
        coreOf(session).detachOnPeerClose(timeout, handler);
    }

    private static DetachableConnection coreOf(Session session) {
        TomcatInternals.check();
        if (!session.isOpen()) {
            throw DetachableConnection.sessionNotOpen(session.getId());
        }
        Object connection = session.getUserProperties().get(TomcatConnection.SESSION_PROPERTY);
        if (connection instanceof TomcatConnection) {
            return ((TomcatConnection) connection).detachable((WsSession) session);
        }
        if (!(session.getContainer() instanceof ServerContainer)) {
            throw new UnsupportedOperationException("session " + session.getId() + " is a session of Tomcat's"
                    + " WebSocket client, which runs on an AsynchronousSocketChannel: wsdetach detaches"
                    + " SocketChannel connections only");
        }
        throw new UnsupportedOperationException("session " + session.getId() + " was not upgraded through"
                + " wsdetach: add org.wsdetach.tomcat.DetachInitializer to its web application (Tomcat finds it"
                + " in WEB-INF/lib by itself; embedded Tomcat and Spring Boot add it as its javadoc shows)");
    }
}
