package org.wsdetach.it;

import jakarta.websocket.DeploymentException;
import org.glassfish.tyrus.server.Server;
import org.wsdetach.tyrus.DetachingServerContainerFactory;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

class TyrusDeclaredHandlerTest extends DeclaredHandlerConformance {

    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }

    @Override
    void assertStartFails(Class<?> endpoint, String message) {
        Server server = new Server("127.0.0.1", -1, "/", Map.of(DetachingServerContainerFactory.HOST, "127.0.0.1"),
                endpoint);
        Throwable failure = catchThrowable(server::start);
        server.stop();
        // Tyrus collects the deployment's errors into one exception, a line each.
        assertThat(failure).isInstanceOf(DeploymentException.class).hasMessage(message + "\n");
    }

    @Override
    boolean deploysEndpointsAddedAfterTheStart() {
        // Tyrus' embedded server deploys nothing once it has started.
        return false;
    }

    @Override
    boolean handlerMadeInsideTheUpgrade() {
        // Tyrus makes it as it opens the session, after the 101; Grizzly then closes the connection.
        return false;
    }
}
