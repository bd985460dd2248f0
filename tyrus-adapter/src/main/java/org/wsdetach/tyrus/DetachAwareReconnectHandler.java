package org.wsdetach.tyrus;

import jakarta.websocket.CloseReason;
import org.glassfish.tyrus.client.ClientManager;

/**
 * A Tyrus client's {@link ClientManager.ReconnectHandler} that does not take a detach for a disconnect:
 * Tyrus reports a detached session as closed, and would otherwise ask the handler whether to reconnect.
 * Install it in place of the handler it wraps:
 * {@code client.getProperties().put(ClientProperties.RECONNECT_HANDLER, new DetachAwareReconnectHandler(handler))}.
 */
public final class DetachAwareReconnectHandler extends ClientManager.ReconnectHandler {

    private final ClientManager.ReconnectHandler handler;

    public DetachAwareReconnectHandler(ClientManager.ReconnectHandler handler) {
        this.handler = handler;
    }

    /** Never reconnects a session that was detached; asks the wrapped handler about any other close. */
    @Override
    public boolean onDisconnect(CloseReason closeReason) {
        return !TyrusConnection.closingForDetach() && handler.onDisconnect(closeReason);
    }

    @Override
    public boolean onConnectFailure(Exception exception) {
        return handler.onConnectFailure(exception);
    }

    @Override
    public long getDelay() {
        return handler.getDelay();
    }
}
