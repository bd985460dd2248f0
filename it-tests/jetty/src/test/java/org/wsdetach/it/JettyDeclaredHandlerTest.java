package org.wsdetach.it;

import jakarta.websocket.server.ServerContainer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Jetty refuses an endpoint whose {@code @DetachOnPeerClose} handler cannot be instantiated: when the web
 * application starts if the endpoint is deployed by then, otherwise at each of its handshakes.
 */
class JettyDeclaredHandlerTest extends ConformanceBase {

    @Override
    protected ServerFixture fixture() {
        return new JettyFixture();
    }

    @Override
    ServerFixture.RunningServer start(Class<?>... endpoints) throws Exception {
        return super.start(with(endpoints, WronglyDeclared.ThrowingHandlerEndpoint.class));
    }

    @Test
    void anAnnotatedEndpointWithAHandlerWithoutConstructorFailsTheWebApplicationsStart() {
        assertStartFails(WronglyDeclared.NoConstructorEndpoint.class, WronglyDeclared.NO_CONSTRUCTOR);
    }

    @Test
    void aProgrammaticEndpointWithAnAbstractHandlerFailsTheWebApplicationsStart() {
        assertStartFails(WronglyDeclared.AbstractHandlerConfig.class, WronglyDeclared.ABSTRACT);
    }

    @Test
    void anEndpointMappedAfterTheStartIsRefusedAtEachHandshakeWith500AndLoggedOnce() throws Exception {
        CompletableFuture<Throwable> added = new CompletableFuture<>();
        Probe.onOpen = s -> added.complete(catchThrowable(() ->
                ((ServerContainer) s.getContainer()).addEndpoint(WronglyDeclared.NoConstructorEndpoint.class)));
        try (SocketPeer peer = peer("/probe")) {
            assertThat(added.get(10, TimeUnit.SECONDS)).as("Jetty maps it").isNull();
        }
        try (CapturedLog log = new CapturedLog()) {
            for (int handshake = 0; handshake < 2; handshake++) {
                assertThatThrownBy(() -> peer("/no-constructor")).isInstanceOf(IOException.class)
                        .hasMessageStartingWith("upgrade refused: HTTP/1.1 500");
            }
            assertThat(log.mentioning(WronglyDeclared.NO_CONSTRUCTOR)).singleElement()
                    .isEqualTo(List.of("wsdetach-jetty refuses the WebSocket handshakes of an endpoint mapped after"
                            + " web application '' started, with HTTP 500: " + WronglyDeclared.NO_CONSTRUCTOR));
        }
    }

    @Test
    void aHandlerWhoseConstructorThrowsRefusesEachHandshakeWith500() throws Exception {
        AtomicBoolean opened = new AtomicBoolean();
        Probe.onOpen = s -> opened.set(true);
        // The constructor runs inside Jetty's upgrade, which answers the exception with a 500.
        assertThatThrownBy(() -> peer("/throwing-handler")).isInstanceOf(IOException.class)
                .hasMessageStartingWith("upgrade refused: HTTP/1.1 500");
        assertNothingMoreOnceTheServerHasStopped();
        assertThat(opened).isFalse();
    }

    private void assertStartFails(Class<?> endpoint, String message) {
        Throwable failure = catchThrowable(() -> fixture().start(endpoint).close());
        // Embedded Jetty's start throws the listener's exception as it is.
        assertThat(failure).isInstanceOf(IllegalStateException.class)
                .hasMessage("wsdetach-jetty cannot deploy web application '': " + message);
    }
}
