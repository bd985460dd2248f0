package org.wsdetach.it;

import jakarta.websocket.DeploymentException;
import org.glassfish.tyrus.server.Server;
import org.junit.jupiter.api.Test;
import org.wsdetach.tyrus.DetachingServerContainerFactory;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Tyrus refuses to deploy an endpoint whose {@code @DetachOnPeerClose} handler cannot be instantiated: the server
 * does not start. (On Tyrus' embedded server, {@code ServerContainer.addEndpoint} after the start deploys nothing
 * and reaches no code of the adapter's, so there is nothing to check later.)
 */
class TyrusDeclaredHandlerTest {

    @Test
    void anAnnotatedEndpointWithAHandlerWithoutConstructorFailsTheStart() {
        assertStartFails(WronglyDeclared.NoConstructorEndpoint.class, WronglyDeclared.NO_CONSTRUCTOR);
    }

    @Test
    void aProgrammaticEndpointWithAnAbstractHandlerFailsTheStart() {
        assertStartFails(WronglyDeclared.AbstractHandlerConfig.class, WronglyDeclared.ABSTRACT);
    }

    private static void assertStartFails(Class<?> endpoint, String message) {
        Server server = new Server("127.0.0.1", -1, "/", Map.of(DetachingServerContainerFactory.HOST, "127.0.0.1"),
                endpoint);
        Throwable failure = catchThrowable(server::start);
        server.stop();
        // Tyrus collects the deployment's errors into one exception, a line each.
        assertThat(failure).isInstanceOf(DeploymentException.class).hasMessage(message + "\n");
    }
}
