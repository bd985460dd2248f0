package org.wsdetach.jetty;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.websocket.core.Behavior;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.WebSocketCoreSession;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;
import org.wsdetach.core.DetachableConnection;
import org.wsdetach.spi.DetachProvider;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Detaches the server sessions of Jetty 12 (ee10 and ee11) in web applications that {@link DetachInitializer}
 * has set up. Found by {@link java.util.ServiceLoader}; applications do not use it directly. It loads without
 * Jetty on the class path and then supports nothing.
 *
 * <p>{@link DetachedConnection#unwrap} offers Jetty's {@link org.eclipse.jetty.io.EndPoint} (now idle), the
 * {@link java.nio.channels.SocketChannel} and, for {@code wss}, the {@link javax.net.ssl.SSLEngine}.
 */
public final class JettyDetachProvider implements DetachProvider {

    private static final String[] SESSION_TYPES = {
            "org.eclipse.jetty.ee10.websocket.jakarta.common.JakartaWebSocketSession",
            "org.eclipse.jetty.ee11.websocket.jakarta.common.JakartaWebSocketSession"};

    @Override
    public boolean supports(Session session) {
        for (Class<?> type = session.getClass(); type != null; type = type.getSuperclass()) {
            for (String name : SESSION_TYPES) {
                if (type.getName().equals(name)) {
                    return true;
                }
            }
        }
        return false;
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
        if (!session.isOpen()) {
            throw DetachableConnection.sessionNotOpen(session.getId());
        }
        CoreSession core = session.getClass().getName().startsWith("org.eclipse.jetty.ee10.")
                ? new Ee10Glue().coreSession(session) : new Ee11Glue().coreSession(session);
        if (core != null && core.getBehavior() == Behavior.CLIENT) {
            throw new UnsupportedOperationException("session " + session.getId() + " is a session of Jetty's"
                    + " WebSocket client, which wsdetach does not take over");
        }
        if (core instanceof WebSocketCoreSession) {
            EndPoint endPoint = ((WebSocketCoreSession) core).getConnection().getEndPoint();
            if (endPoint instanceof JettyEndPoint) {
                JettyEndPoint detaching = (JettyEndPoint) endPoint;
                if (detaching.real() instanceof SslConnection.SslEndPoint) {
                    JettyInternals.checkTlsHandOver();
                }
                return detaching.detachable().detachable(session.getId());
            }
            if (!JettyConnection.isTcp(endPoint)) {
                // WebSocket over HTTP/2: Jetty makes its connection on the stream, which the adapter leaves alone.
                throw JettyConnection.notTcp(session.getId(), endPoint);
            }
        }
        throw new UnsupportedOperationException("session " + session.getId() + " was not upgraded through"
                + " wsdetach: add org.wsdetach.jetty.DetachInitializer to its web application (Jetty finds it in"
                + " WEB-INF/lib by itself; embedded Jetty adds it as its javadoc shows)");
    }
}
