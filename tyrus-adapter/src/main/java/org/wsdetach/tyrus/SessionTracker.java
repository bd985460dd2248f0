package org.wsdetach.tyrus;

import org.glassfish.tyrus.core.monitoring.ApplicationEventListener;
import org.glassfish.tyrus.core.monitoring.EndpointEventListener;
import org.glassfish.tyrus.core.monitoring.MessageEventListener;
import org.wsdetach.DetachOnPeerClose;


/**
 * Learns which session runs on which {@link TyrusConnection}, through Tyrus' monitoring listener:
 * Tyrus reports a session as opened inside the handshake's {@code createConnection}, before
 * {@code @OnOpen}, on the thread that {@link TyrusConnection#opening()} knows. Events are passed on
 * to the application's own listener, if it configured one.
 */
final class SessionTracker implements ApplicationEventListener {

    private final ApplicationEventListener next;

    SessionTracker(ApplicationEventListener next) {
        this.next = next == null ? ApplicationEventListener.NO_OP : next;
    }

    @Override
    public void onApplicationInitialized(String applicationName) {
        next.onApplicationInitialized(applicationName);
    }

    @Override
    public void onApplicationDestroyed() {
        next.onApplicationDestroyed();
    }

    @Override
    public EndpointEventListener onEndpointRegistered(String endpointPath, Class<?> endpointClass) {
        EndpointEventListener endpointNext = next.onEndpointRegistered(endpointPath, endpointClass);
        DetachOnPeerClose declared = endpointClass.getAnnotation(DetachOnPeerClose.class);
        return new EndpointEventListener() {
            @Override
            public MessageEventListener onSessionOpened(String sessionId) {
                TyrusConnection connection = TyrusConnection.opening();
                if (connection != null) {
                    connection.sessionOpened(sessionId);
                    TyrusDetachProvider.register(sessionId, connection);
                    if (declared != null) {
                        arm(connection, declared, endpointClass);
                    }
                }
                return endpointNext.onSessionOpened(sessionId);
            }

            @Override
            public void onSessionClosed(String sessionId) {
                TyrusDetachProvider.unregister(sessionId);
                endpointNext.onSessionClosed(sessionId);
            }

            @Override
            public void onError(String sessionId, Throwable t) {
                endpointNext.onError(sessionId, t);
            }
        };
    }

    @Override
    public void onEndpointUnregistered(String endpointPath) {
        next.onEndpointUnregistered(endpointPath);
    }

    private static void arm(TyrusConnection connection, DetachOnPeerClose declared, Class<?> endpointClass) {
        try {
            if (connection.secure()) {
                TyrusInternals.checkTlsHandOver();
            }
        } catch (UnsupportedOperationException e) {
            System.getLogger(SessionTracker.class.getName()).log(System.Logger.Level.WARNING,
                    "@DetachOnPeerClose of " + endpointClass.getName() + " cannot take effect", e);
            return;
        }
        connection.core().detachOnPeerClose(declared);
    }
}
