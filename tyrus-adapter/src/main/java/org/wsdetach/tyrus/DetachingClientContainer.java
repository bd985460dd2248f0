package org.wsdetach.tyrus;

import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.DeploymentException;
import org.glassfish.tyrus.container.grizzly.client.GrizzlyClientContainer;
import org.glassfish.tyrus.spi.ClientContainer;
import org.glassfish.tyrus.spi.ClientEngine;
import org.glassfish.tyrus.spi.Connection;
import org.glassfish.tyrus.spi.UpgradeRequest;
import org.glassfish.tyrus.spi.UpgradeResponse;
import org.glassfish.tyrus.spi.Writer;

import java.io.IOException;
import java.util.Map;

/**
 * Tyrus' Grizzly client container, with detach support for the sessions it opens:
 * {@code ClientManager.createClient(DetachingClientContainer.class.getName())} makes a client whose
 * sessions {@link org.wsdetach.Detach} can detach, over {@code ws} and {@code wss}. Everything else is
 * Tyrus' {@link GrizzlyClientContainer}, properties included. A configured
 * {@code ClientManager.ReconnectHandler} should be wrapped in a {@link DetachAwareReconnectHandler}, so
 * that a detach is not taken for a disconnect.
 */
public class DetachingClientContainer implements ClientContainer {

    private final ClientContainer grizzly = new GrizzlyClientContainer();

    @Override
    public void openClientSocket(ClientEndpointConfig config, Map<String, Object> properties, ClientEngine engine)
            throws DeploymentException, IOException {
        grizzly.openClientSocket(config, properties, new DetachingEngine(engine));
    }

    /** Puts a {@link TyrusConnection} between Tyrus and each connection the handshake opens. */
    private static final class DetachingEngine implements ClientEngine {
        private final ClientEngine tyrus;

        DetachingEngine(ClientEngine tyrus) {
            this.tyrus = tyrus;
        }

        @Override
        public UpgradeRequest createUpgradeRequest(TimeoutHandler timeoutHandler) {
            return tyrus.createUpgradeRequest(timeoutHandler);
        }

        @Override
        public ClientUpgradeInfo processResponse(UpgradeResponse response, Writer writer,
                                                 Connection.CloseListener closeListener) {
            org.glassfish.grizzly.Connection<?> transport = TyrusInternals.transportOf(writer);
            if (transport == null) {
                return tyrus.processResponse(response, writer, closeListener);
            }
            TyrusConnection connection = TyrusConnection.forClient(transport, writer);
            ClientUpgradeInfo upgrade = connection.opening(
                    () -> tyrus.processResponse(response, connection.getWriter(), closeListener));
            if (upgrade.getUpgradeStatus() != ClientUpgradeStatus.SUCCESS) {
                return upgrade;
            }
            DetachingClientFilter.install(transport);
            return new ClientUpgradeInfo() {
                @Override
                public ClientUpgradeStatus getUpgradeStatus() {
                    return ClientUpgradeStatus.SUCCESS;
                }

                @Override
                public Connection createConnection() {
                    connection.attach(upgrade.createConnection());
                    return connection;
                }
            };
        }

        @Override
        public void processError(Throwable t) {
            tyrus.processError(t);
        }
    }
}
