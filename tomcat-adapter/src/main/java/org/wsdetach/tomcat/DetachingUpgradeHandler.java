package org.wsdetach.tomcat;

import jakarta.servlet.http.WebConnection;
import jakarta.websocket.Extension;
import jakarta.websocket.server.ServerEndpointConfig;
import org.apache.tomcat.util.net.AbstractEndpoint.Handler.SocketState;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;
import org.apache.tomcat.websocket.Transformation;
import org.apache.tomcat.websocket.server.WsHandshakeRequest;
import org.apache.tomcat.websocket.server.WsHttpUpgradeHandler;
import org.apache.tomcat.websocket.server.WsServerContainer;
import org.wsdetach.core.DetachThreads;

import java.util.List;
import java.util.Map;

/**
 * Tomcat's WebSocket upgrade handler with a {@link TomcatConnection} behind it: what {@link DetachInitializer}'s
 * filter has Tomcat create in place of {@link WsHttpUpgradeHandler}. Not for applications: public only because
 * Tomcat instantiates upgrade handlers reflectively. Without detach threads (a request not seen by the
 * filter) or on a Tomcat whose internals are not as expected, it is exactly Tomcat's handler.
 */
public final class DetachingUpgradeHandler extends WsHttpUpgradeHandler {

    private DetachThreads threads;
    private TomcatConnection connection;

    /** Tomcat's handler, with nothing of ours yet; {@link UpgradeFilter} gives it its threads. */
    public DetachingUpgradeHandler() {
    }

    void threads(DetachThreads detachThreads) {
        this.threads = detachThreads;
    }

    @Override
    public void preInit(ServerEndpointConfig serverEndpointConfig, WsServerContainer wsc,
                        WsHandshakeRequest handshakeRequest, List<Extension> negotiatedExtensionsPhase2,
                        String subProtocol, Transformation transformation, Map<String, String> pathParameters,
                        boolean secure) {
        Transformation chain = transformation;
        if (threads != null && TomcatInternals.unresolved().isEmpty()) {
            connection = new TomcatConnection(this, threads, serverEndpointConfig.getEndpointClass());
            // The per-session configuration: Tomcat copies its properties into the session it creates.
            serverEndpointConfig.getUserProperties().put(TomcatConnection.SESSION_PROPERTY, connection);
            chain = connection.gate(transformation);
        }
        super.preInit(serverEndpointConfig, wsc, handshakeRequest, negotiatedExtensionsPhase2, subProtocol, chain,
                pathParameters, secure);
    }

    @Override
    public void setSocketWrapper(SocketWrapperBase<?> socketWrapper) {
        super.setSocketWrapper(socketWrapper);
        if (connection != null) {
            connection.socket(socketWrapper);
        }
    }

    @Override
    public void init(WebConnection webConnection) {
        super.init(webConnection);
        if (connection != null) {
            connection.opened();
        }
    }

    @Override
    public SocketState upgradeDispatch(SocketEvent status) {
        return connection == null ? super.upgradeDispatch(status) : connection.dispatch(status);
    }

    /**
     * A negative {@code now} is the connector stopping: it ends every waiting connection, and Tomcat 10.1
     * closes their sockets with no call to {@link #destroy}. A detach under way cannot finish then.
     */
    @Override
    public void timeoutAsync(long now) {
        if (now < 0 && connection != null) {
            connection.endedByTomcat("Tomcat's connector stopped");
        }
        super.timeoutAsync(now);
    }

    /**
     * Tomcat is done with the connection: it closed the socket (its stop, a timeout, an error), which it
     * signals with no event. A detach under way cannot finish then.
     */
    @Override
    public void destroy() {
        if (connection != null) {
            connection.endedByTomcat("closed by Tomcat");
        }
        super.destroy();
    }

    /** Tomcat's own handling of an event. */
    SocketState dispatchToTomcat(SocketEvent status) {
        return super.upgradeDispatch(status);
    }
}
