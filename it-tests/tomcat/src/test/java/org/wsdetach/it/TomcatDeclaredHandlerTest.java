package org.wsdetach.it;

import jakarta.websocket.server.ServerContainer;
import org.apache.catalina.LifecycleException;
import org.junit.jupiter.api.Test;
import org.wsdetach.demo.TomcatServer;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Tomcat refuses an endpoint whose {@code @DetachOnPeerClose} handler cannot be instantiated: when the web
 * application starts if the endpoint is deployed by then, otherwise at each of its handshakes.
 */
class TomcatDeclaredHandlerTest extends ConformanceBase {

    @Override
    protected ServerFixture fixture() {
        return new TomcatFixture();
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
    void anEndpointDeployedAfterTheStartIsRefusedAtEachHandshakeWith500AndLoggedOnce() throws Exception {
        CompletableFuture<Throwable> added = new CompletableFuture<>();
        Probe.onOpen = s -> added.complete(catchThrowable(() ->
                ((ServerContainer) s.getContainer()).addEndpoint(WronglyDeclared.NoConstructorEndpoint.class)));
        try (SocketPeer peer = peer("/probe")) {
            assertThat(added.get(10, TimeUnit.SECONDS)).as("Tomcat deploys it").isNull();
        }
        try (CapturedLog log = new CapturedLog()) {
            for (int handshake = 0; handshake < 2; handshake++) {
                assertThatThrownBy(() -> peer("/no-constructor")).isInstanceOf(IOException.class)
                        .hasMessageStartingWith("upgrade refused: HTTP/1.1 500");
            }
            assertThat(log.mentioning(WronglyDeclared.NO_CONSTRUCTOR)).singleElement()
                    .isEqualTo(List.of("wsdetach-tomcat refuses the WebSocket handshakes of an endpoint deployed after"
                            + " web application '' started, with HTTP 500: " + WronglyDeclared.NO_CONSTRUCTOR));
        }
    }

    @Test
    void aHandlerWhoseConstructorThrowsClosesEachConnectionBeforeItsSessionOpens() throws Exception {
        AtomicBoolean opened = new AtomicBoolean();
        Probe.onOpen = s -> opened.set(true);
        // The constructor runs as Tomcat hands the upgraded connection over: after the 101, before the session.
        try (SocketPeer peer = peer("/throwing-handler")) {
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertNothingMoreOnceTheServerHasStopped();
        assertThat(opened).isFalse();
    }

    private static void assertStartFails(Class<?> endpoint, String message) {
        try (CapturedLog log = new CapturedLog()) {
            assertThatThrownBy(() -> TomcatServer.start("127.0.0.1", 0, null, true, endpoint).close())
                    .isInstanceOf(LifecycleException.class)
                    .hasMessage("the web application did not start; Tomcat's log says why");
            assertThat(log.mentioning(message)).singleElement().satisfies(messages -> assertThat(messages)
                    .contains("wsdetach-tomcat cannot deploy web application '': " + message));
        }
    }
}
