package org.wsdetach.it;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpointConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * An endpoint whose {@code @DetachOnPeerClose} handler cannot be instantiated is refused once, when it is
 * deployed, with an error naming the class: the container does not start, or, deployed after the start, its
 * {@code addEndpoint} throws. A handler whose constructor throws fails each connection before its session opens.
 */
public abstract class DeclaredHandlerConformance extends ConformanceBase {

    /** Asserts that the container, started with {@code endpoint}, fails its start with {@code message}. */
    abstract void assertStartFails(Class<?> endpoint, String message) throws Exception;

    /**
     * Whether the container deploys endpoints added after its start, so that the adapter must refuse a wrongly
     * declared one then; if not, the container takes it and deploys nothing.
     */
    abstract boolean deploysEndpointsAddedAfterTheStart();

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
    void anAnnotatedEndpointDeployedAfterTheStartIsRefusedThen() throws Exception {
        assertRefusedWhenDeployedAfterTheStart(
                container -> container.addEndpoint(WronglyDeclared.NoConstructorEndpoint.class),
                "/no-constructor", WronglyDeclared.NO_CONSTRUCTOR);
    }

    @Test
    void anAnnotatedEndpointAtAPathTemplateDeployedAfterTheStartIsRefusedThen() throws Exception {
        assertRefusedWhenDeployedAfterTheStart(
                container -> container.addEndpoint(WronglyDeclared.NoConstructorTemplateEndpoint.class),
                "/no-constructor/x", WronglyDeclared.noConstructor(WronglyDeclared.NoConstructorTemplateEndpoint.class));
    }

    @Test
    void aProgrammaticEndpointDeployedAfterTheStartIsRefusedThen() throws Exception {
        assertRefusedWhenDeployedAfterTheStart(container -> container.addEndpoint(ServerEndpointConfig.Builder
                        .create(WronglyDeclared.AbstractHandlerEndpoint.class, "/abstract-handler").build()),
                "/abstract-handler", WronglyDeclared.ABSTRACT);
    }

    /**
     * Adds an endpoint from a session's {@code @OnOpen}, on the running container: {@code addEndpoint} throws a
     * {@link DeploymentException} that says what is wrong (the adapter's, or the container's with the adapter's as
     * a cause), nothing is deployed at {@code path}, and its handshakes log nothing.
     */
    private void assertRefusedWhenDeployedAfterTheStart(Deployment deployment, String path, String message)
            throws Exception {
        CompletableFuture<Throwable> added = new CompletableFuture<>();
        Probe.onOpen = s -> added.complete(catchThrowable(() -> deployment.add((ServerContainer) s.getContainer())));
        try (SocketPeer peer = peer("/probe")) {
            Throwable refusal = added.get(10, TimeUnit.SECONDS);
            if (deploysEndpointsAddedAfterTheStart()) {
                assertThat(refusal).isInstanceOf(DeploymentException.class);
                assertThat(Stream.iterate(refusal, Objects::nonNull, Throwable::getCause))
                        .anySatisfy(cause -> assertThat(cause).isInstanceOf(DeploymentException.class)
                                .hasMessage(message));
            } else {
                assertThat(refusal).as("the container takes it").isNull();
            }
        }
        try (CapturedLog log = new CapturedLog()) {
            for (int handshake = 0; handshake < 2; handshake++) {
                assertThatThrownBy(() -> peer(path)).isInstanceOf(IOException.class)
                        .hasMessageStartingWith("upgrade refused: HTTP/1.1 404");
            }
            assertThat(log.mentioning(message)).isEmpty();
        }
    }

    private interface Deployment {
        void add(ServerContainer container) throws DeploymentException;
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
