package org.wsdetach.it;

import jakarta.websocket.DeploymentException;
import org.glassfish.tyrus.server.Server;
import org.junit.jupiter.api.Test;
import org.wsdetach.tyrus.DetachingServerContainerFactory;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Tyrus refuses to deploy an endpoint whose {@code @DetachOnPeerClose} handler cannot be instantiated: the server
 * does not start. (On Tyrus' embedded server, {@code ServerContainer.addEndpoint} after the start deploys nothing
 * and reaches no code of the adapter's, so there is nothing to check later.)
 */
class TyrusDeclaredHandlerTest extends ConformanceBase {

    @Override
    protected ServerFixture fixture() {
        return new TyrusFixture();
    }

    @Override
    ServerFixture.RunningServer start(Class<?>... endpoints) throws Exception {
        return super.start(with(endpoints, WronglyDeclared.ThrowingHandlerEndpoint.class));
    }

    @Test
    void anAnnotatedEndpointWithAHandlerWithoutConstructorFailsTheStart() {
        assertStartFails(WronglyDeclared.NoConstructorEndpoint.class, WronglyDeclared.NO_CONSTRUCTOR);
    }

    @Test
    void aProgrammaticEndpointWithAnAbstractHandlerFailsTheStart() {
        assertStartFails(WronglyDeclared.AbstractHandlerConfig.class, WronglyDeclared.ABSTRACT);
    }

    @Test
    void aHandlerWhoseConstructorThrowsClosesEachConnectionBeforeItsSessionOpens() throws Exception {
        AtomicBoolean opened = new AtomicBoolean();
        Probe.onOpen = s -> opened.set(true);
        // The constructor runs as Tyrus opens the session, after the 101: Grizzly then closes the connection.
        try (SocketPeer peer = peer("/throwing-handler")) {
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertNothingMoreOnceTheServerHasStopped();
        assertThat(opened).isFalse();
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
