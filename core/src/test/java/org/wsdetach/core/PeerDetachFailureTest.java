package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;

import java.io.IOException;
import java.net.ProtocolException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How the core reports a detach the peer started that fails: {@link DetachHandler#onDetachFailed}. */
class PeerDetachFailureTest {

    /** A client's close frame 1000, masked with the key 00000000. */
    private static final String CLOSE_1000 = "88820000000003e8";

    private FakeServerSide side;
    private FakeContainer container;
    private DetachableConnection connection;
    private final RecordingHandler handler = new RecordingHandler();

    @BeforeEach
    void setUp() throws IOException {
        side = new FakeServerSide("core-test");
        container = side.container;
        connection = side.connection;
    }

    @AfterEach
    void tearDown() throws IOException {
        side.close();
    }

    @Test
    void aCloseFrameThatDoesNotCompleteInTimeIsReportedOnceAsATimeout() throws Exception {
        connection.detachOnPeerClose(Duration.ofMillis(200), handler);
        read("88");
        Failure failure = handler.awaitFailure();
        assertThat(failure.sessionId).isEqualTo(FakeContainer.SESSION_ID);
        assertThat(failure.cause).isInstanceOf(TimeoutException.class)
                .hasMessage("the peer's close frame did not complete within PT0.2S");
        assertThat(container.transportClosed).isTrue();
        // The container then sees its transport close: no second report.
        connection.onTransportClosed("closed", null);
        assertThat(handler.failures).hasSize(1);
        assertThat(handler.detached).isNotDone();
    }

    @Test
    void aMalformedCloseFrameIsReportedAsAProtocolError() {
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handler);
        read("88810000000003");
        assertThat(handler.failures).singleElement().satisfies(failure -> assertThat(failure.cause)
                .isInstanceOf(ProtocolException.class)
                .hasMessage("while waiting for the peer's close frame: close payload of 1 byte"));
        assertThat(container.closedSessions).singleElement().extracting(CloseReason::getCloseCode)
                .isEqualTo(CloseCodes.PROTOCOL_ERROR);
    }

    @Test
    void aConnectionLostInTheMiddleOfTheCloseFrameIsReportedAsASocketException() {
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handler);
        read("88");
        IOException reset = new IOException("Connection reset");
        connection.onTransportClosed("reset", reset);
        assertThat(handler.failures).singleElement().satisfies(failure -> assertThat(failure.cause)
                .isInstanceOf(SocketException.class)
                .hasMessage("connection closed (reset) before the peer's close frame")
                .hasCause(reset));
    }

    @Test
    void aFailedHandOverIsReportedWithWhatMadeItFail() {
        container.releaseFailure = new IllegalStateException("no channel");
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handler);
        read(CLOSE_1000);
        container.completeStops();
        assertThat(handler.failures).singleElement().satisfies(failure ->
                assertThat(failure.cause).isSameAs(container.releaseFailure));
        assertThat(container.transportClosed).isTrue();
    }

    @Test
    void aSuccessfulPeerDetachReportsNoFailure() throws Exception {
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handler);
        read(CLOSE_1000);
        container.completeStops();
        handler.detached.get(10, TimeUnit.SECONDS).close();
        connection.onTransportClosed("closed by its new owner", null);
        assertThat(handler.failures).isEmpty();
    }

    @Test
    void aSessionThatEndsBeforeThePeersCloseFrameBeginsReportsNoFailure() {
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handler);
        connection.onTransportClosed("reset", new IOException("Connection reset"));
        assertThat(handler.failures).isEmpty();
    }

    @Test
    void aFailedLocalDetachIsReportedByItsFutureAlone() {
        CompletableFuture<DetachedConnection> future = connection.detach(
                new CloseReason(CloseCodes.NORMAL_CLOSURE, ""), Duration.ofMillis(200), handler);
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
        assertThat(handler.failures).isEmpty();
    }

    @Test
    void aHandlerWhoseOnDetachFailedThrowsChangesNothing() {
        handler.failWith = new IllegalStateException("the application's own bug");
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handler);
        read("88810000000003");
        assertThat(handler.failures).hasSize(1);
        assertThat(container.transportClosed).isTrue();
        assertThat(container.closedSessions).singleElement().extracting(CloseReason::getCloseCode)
                .isEqualTo(CloseCodes.PROTOCOL_ERROR);
    }

    private void read(String hex) {
        connection.onInbound(ByteBuffer.wrap(HexFormat.of().parseHex(hex)));
    }

    private record Failure(String sessionId, Exception cause) {
    }

    private static final class RecordingHandler implements DetachHandler {
        final List<Failure> failures = new CopyOnWriteArrayList<>();
        final CompletableFuture<Failure> firstFailure = new CompletableFuture<>();
        final CompletableFuture<DetachedConnection> detached = new CompletableFuture<>();
        volatile RuntimeException failWith;

        @Override
        public void onDetached(DetachedConnection connection) {
            detached.complete(connection);
        }

        @Override
        public void onDetachFailed(String sessionId, Exception cause) {
            Failure failure = new Failure(sessionId, cause);
            failures.add(failure);
            firstFailure.complete(failure);
            if (failWith != null) {
                throw failWith;
            }
        }

        Failure awaitFailure() throws Exception {
            return firstFailure.get(10, TimeUnit.SECONDS);
        }
    }
}
