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
 * An endpoint whose {@code @DetachOnPeerClose} handler cannot be instantiated is refused once, when it is
 * deployed, with an error naming the class: the container does not start. An endpoint deployed after the start
 * is refused at each of its handshakes, with one log line; a handler whose constructor throws fails each
 * connection before its session opens.
 */
public abstract class DeclaredHandlerConformance extends ConformanceBase {

    /** Asserts that the container, started with {@code endpoint}, fails its start with {@code message}. */
    abstract void assertStartFails(Class<?> endpoint, String message) throws Exception;

    /**
     * The adapter's log line for the handshakes of an endpoint deployed after the start, which it refuses with
     * HTTP 500, {@code problem} being what is wrong with the endpoint; null if endpoints deployed after the
     * start never reach the adapter (they are then not deployed at all).
     */
    abstract String lateDeploymentRefusal(String problem);

    /**
     * Whether the handler's constructor runs inside the container's upgrade, which answers its exception with
     * HTTP 500; otherwise it runs after the 101, and the container closes the connection.
     */
    abstract boolean handlerMadeInsideTheUpgrade();

    @Override
    ServerFixture.RunningServer start(Class<?>... endpoints) throws Exception {
        return super.start(with(endpoints, WronglyDeclared.ThrowingHandlerEndpoint.class));
    }

    @Test
    void anAnnotatedEndpointWithAHandlerWithoutConstructorFailsTheStart() throws Exception {
        assertStartFails(WronglyDeclared.NoConstructorEndpoint.class, WronglyDeclared.NO_CONSTRUCTOR);
    }

    @Test
    void aProgrammaticEndpointWithAnAbstractHandlerFailsTheStart() throws Exception {
        assertStartFails(WronglyDeclared.AbstractHandlerConfig.class, WronglyDeclared.ABSTRACT);
    }

    @Test
    void anEndpointDeployedAfterTheStartIsRefusedAtEachHandshakeAndLoggedOnce() throws Exception {
        CompletableFuture<Throwable> added = new CompletableFuture<>();
        Probe.onOpen = s -> added.complete(catchThrowable(() ->
                ((ServerContainer) s.getContainer()).addEndpoint(WronglyDeclared.NoConstructorEndpoint.class)));
        try (SocketPeer peer = peer("/probe")) {
            assertThat(added.get(10, TimeUnit.SECONDS)).as("the container takes it").isNull();
        }
        String refusal = lateDeploymentRefusal(WronglyDeclared.NO_CONSTRUCTOR);
        try (CapturedLog log = new CapturedLog()) {
            for (int handshake = 0; handshake < 2; handshake++) {
                assertThatThrownBy(() -> peer("/no-constructor")).isInstanceOf(IOException.class)
                        .hasMessageStartingWith(refusal == null ? "upgrade refused: HTTP/1.1 404"
                                : "upgrade refused: HTTP/1.1 500");
            }
            if (refusal == null) {
                assertThat(log.mentioning(WronglyDeclared.NO_CONSTRUCTOR)).isEmpty();
            } else {
                assertThat(log.mentioning(WronglyDeclared.NO_CONSTRUCTOR)).singleElement().isEqualTo(List.of(refusal));
            }
        }
    }

    @Test
    void aHandlerWhoseConstructorThrowsFailsEachConnectionBeforeItsSessionOpens() throws Exception {
        AtomicBoolean opened = new AtomicBoolean();
        Probe.onOpen = s -> opened.set(true);
        for (int handshake = 0; handshake < 2; handshake++) {
            if (handlerMadeInsideTheUpgrade()) {
                assertThatThrownBy(() -> peer("/throwing-handler")).isInstanceOf(IOException.class)
                        .hasMessageStartingWith("upgrade refused: HTTP/1.1 500");
            } else {
                try (SocketPeer peer = peer("/throwing-handler")) {
                    assertThat(peer.readUntilClosed()).isEmpty();
                }
            }
        }
        assertNothingMoreOnceTheServerHasStopped();
        assertThat(opened).isFalse();
    }
}
