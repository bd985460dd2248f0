package org.wsdetach.tyrus;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import org.glassfish.tyrus.core.TyrusSession;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;
import org.wsdetach.core.DetachableConnection;
import org.wsdetach.spi.DetachProvider;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Detaches sessions served by {@link DetachingServerContainerFactory}'s containers and sessions opened by
 * clients made with {@link DetachingClientContainer}. Found by {@link java.util.ServiceLoader};
 * applications do not use it directly.
 *
 * <p>{@link DetachedConnection#unwrap} offers the {@link java.nio.channels.SocketChannel} and the Grizzly
 * {@code org.glassfish.grizzly.Connection}.
 */
public final class TyrusDetachProvider implements DetachProvider {

    /** Tyrus session ids are UUIDs, unique across the containers of a JVM. */
    private static final Map<String, TyrusConnection> SESSIONS = new ConcurrentHashMap<>();

    static void register(String sessionId, TyrusConnection connection) {
        SESSIONS.put(sessionId, connection);
    }

    static void unregister(String sessionId) {
        SESSIONS.remove(sessionId);
    }

    @Override
    public boolean supports(Session session) {
        return session instanceof TyrusSession;
    }

    @Override
    public CompletableFuture<DetachedConnection> detach(Session session, CloseReason closeReason, Duration timeout,
                                                        DetachHandler handler) {
        return connectionOf(session).core().detach(closeReason, timeout, handler);
    }

    @Override
    public void detachOnPeerClose(Session session, Duration timeout, DetachHandler handler) {
        connectionOf(session).core().detachOnPeerClose(timeout, handler);
    }

    private static TyrusConnection connectionOf(Session session) {
        // Tyrus marks a session closed before it runs @OnClose and lets go of the connection.
        if (!session.isOpen()) {
            throw DetachableConnection.sessionNotOpen(session.getId());
        }
        TyrusConnection connection = SESSIONS.get(session.getId());
        if (connection == null) {
            connection = TyrusInternals.connectionOf(session);
        }
        if (connection != null) {
            // A client's session is learnt here: Tyrus' client reports no session opening to the adapter.
            connection.sessionOpened(session.getId());
            if (connection.secure()) {
                TyrusInternals.checkTlsHandOver();
            }
            return connection;
        }
        throw new UnsupportedOperationException("session " + session.getId() + " is not served by a wsdetach"
                + " container: a server needs wsdetach-tyrus on its classpath, a client to be made with"
                + " ClientManager.createClient(DetachingClientContainer.class.getName())");
    }
}
