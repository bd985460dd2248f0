package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The core against a scripted container, the peer's bytes given as hex as a server reads them (masked
 * with the all-zero key where masked, so that payloads stay readable).
 */
class DetachableConnectionTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final CloseReason BYE = new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye");
    /** Client frames, masked with the key 00000000. */
    private static final String TEXT_HI = "8182000000006869";
    private static final String CLOSE_1000 = "88820000000003e8";
    private static final String UNMASKED_TEXT_HI = "81026869";

    private DetachThreads threads;
    private ServerSocketChannel listener;
    private FakeContainer container;
    private DetachableConnection connection;
    private final CompletableFuture<DetachedConnection> handed = new CompletableFuture<>();

    @BeforeEach
    void setUp() throws IOException {
        threads = DetachThreads.open("core-test");
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        container = new FakeContainer(listener);
        connection = DetachableConnection.forServer(container, threads);
        container.connection = connection;
    }

    @AfterEach
    void tearDown() throws IOException {
        threads.close();
        listener.close();
        container.closeChannels();
    }

    @Test
    void theContainerIsFedOneFrameAtATime() {
        read(TEXT_HI + TEXT_HI + "81");
        assertThat(container.delivered).containsExactly(TEXT_HI, TEXT_HI, "81");
    }

    @Test
    void anUnmaskedFrameTheContainerAcceptsLeavesTheSessionDetachable() throws Exception {
        read(UNMASKED_TEXT_HI + TEXT_HI);
        assertThat(container.delivered).containsExactly(UNMASKED_TEXT_HI, TEXT_HI);

        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read(CLOSE_1000 + "6869");
        container.completeStops();
        assertThat(future.get(10, TimeUnit.SECONDS)).isSameAs(handed.get());
    }

    @Test
    void aWronglyMaskedFrameWhileWaitingFailsTheDetach() {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read(UNMASKED_TEXT_HI);
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ProtocolException.class)
                .hasMessageContaining("while waiting for the peer's close frame: unmasked frame, a mask was expected");
        assertThat(container.transportClosed).isTrue();
    }

    @Test
    void aDetachWhileThePeersCloseFrameIsWithTheContainerIsRefusedAndNothingIsMisparsed() {
        List<Throwable> refusals = new ArrayList<>();
        container.onDeliver = bytes -> {
            if (bytes.startsWith("88")) {
                // Another thread asks to detach while the container is acting on the peer's close frame.
                CompletableFuture.runAsync(() -> {
                    try {
                        connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
                    } catch (IllegalStateException e) {
                        refusals.add(e);
                    }
                }).join();
            }
        };
        read(TEXT_HI + CLOSE_1000 + "68656c6c6f");
        assertThat(refusals).singleElement().extracting(Throwable::getMessage)
                .isEqualTo("the session is closing: the peer's close frame has arrived");
        assertThat(container.delivered).containsExactly(TEXT_HI, CLOSE_1000 + "68656c6c6f");
        assertThat(container.written).isEmpty();
    }

    @Test
    void theContainersOwnCloseFrameEndsItsChanceToDetach() {
        assertThat(connection.onContainerWrite(bytes("8802 03e9"), () -> container.written.add("8802 03e9")))
                .isEqualTo(ContainerWrite.WRITTEN);
        assertThatThrownBy(() -> connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the session is closing: the container is closing it");
        assertThat(container.written).containsExactly("8802 03e9");
    }

    @Test
    void afterOurCloseFrameTheContainersIsSwallowedAndItsDataRefused() {
        connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        Runnable unexpected = () -> container.written.add("container wrote");
        assertThat(connection.onContainerWrite(bytes("8802 03e9"), unexpected)).isEqualTo(ContainerWrite.SWALLOWED);
        assertThat(connection.onContainerWrite(bytes("8102 6869"), unexpected)).isEqualTo(ContainerWrite.REFUSED);
        assertThat(connection.onContainerReleases()).isFalse();
        assertThat(container.written).containsExactly("8805 03e8 627965");
    }

    @Test
    void pingsWhileWaitingGetNoPong() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read("8982000000006869" + CLOSE_1000);
        container.completeStops();
        future.get(10, TimeUnit.SECONDS);
        assertThat(container.written).containsExactly("8805 03e8 627965");
    }

    @Test
    void halfAPeersCloseFrameIsBoundedByTheDeadline() throws Exception {
        connection.detachOnPeerClose(Duration.ofMillis(200), handed::complete);
        read("88");
        assertThat(container.transportClosedFuture.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(container.closedSessions).singleElement().extracting(CloseReason::getCloseCode)
                .isEqualTo(CloseCodes.CLOSED_ABNORMALLY);
        assertThat(handed).isNotDone();
    }

    @Test
    void aCloseFrameThatIsNeverWrittenIsBoundedByTheDeadlineToo() {
        container.writesComplete = false;
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Duration.ofMillis(200), handed::complete);
        read(CLOSE_1000);
        container.completeStops();
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class)
                .hasMessageEndingWith("the hand-over did not complete within PT0.2S");
        assertThat(container.transportClosed).isTrue();
        assertThat(handed).isNotDone();
    }

    @Test
    void aPeerInitiatedDetachRepliesWithThePeersStatusAndHandsOverTheRest() throws Exception {
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handed::complete);
        read(CLOSE_1000 + "6869");
        container.completeStops();
        DetachedConnection detached = handed.get(10, TimeUnit.SECONDS);
        ByteBuffer first = ByteBuffer.allocate(2);
        assertThat(detached.read(first).get(10, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(HEX.formatHex(first.array())).isEqualTo("6869");
        assertThat(container.written).containsExactly("8802 03e8");
        assertThat(container.closedSessions).singleElement().extracting(CloseReason::getCloseCode)
                .isEqualTo(CloseCodes.NORMAL_CLOSURE);
        detached.close();
    }

    @Test
    void aZeroTimeoutFromAnotherThreadThanTheReaderFailsAtOnce() {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Duration.ZERO, handed::complete);
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(TimeoutException.class);
        assertThat(container.transportClosed).isTrue();
    }

    // ---- for containers that parse their own frames (Tomcat) ----

    @Test
    void atAFrameStartTheContainerKeepsItsFramesUntilADetach() {
        assertThat(connection.onFrameStart((byte) 0x81)).isTrue();
        assertThat(connection.detachStarted()).isFalse();
        connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        assertThat(connection.detachStarted()).isTrue();
        assertThat(connection.onFrameStart((byte) 0x81)).as("the core reads from the next frame on").isFalse();
    }

    @Test
    void aCloseFrameStartWithoutHandlerStaysTheContainersAndEndsItsChanceToDetach() {
        assertThat(connection.onFrameStart((byte) 0x88)).isTrue();
        assertThatThrownBy(() -> connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the session is closing: the peer's close frame has arrived");
    }

    @Test
    void aCloseFrameStartWithAHandlerArmedIsTakenAndStartsTheDeadline() throws Exception {
        connection.detachOnPeerClose(Duration.ofMillis(200), handed::complete);
        assertThat(connection.onFrameStart((byte) 0x88)).isFalse();
        assertThat(connection.detachStarted()).isTrue();
        assertThat(container.transportClosedFuture.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(handed).isNotDone();
    }

    @Test
    void framesAContainerQueuesAreJudgedByTheState() {
        assertThat(connection.onContainerQueues(false)).isEqualTo(ContainerWrite.WRITTEN);
        connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        assertThat(connection.onContainerQueues(true)).isEqualTo(ContainerWrite.SWALLOWED);
        assertThat(connection.onContainerQueues(false)).isEqualTo(ContainerWrite.REFUSED);
    }

    @Test
    void aZeroTimeoutDetachInAReadEventOfTheContainersSucceedsIfTheCloseFrameCameInIt() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.reading(() -> {
            CompletableFuture<DetachedConnection> asked = connection.detach(BYE, Duration.ZERO, handed::complete);
            read(CLOSE_1000);
            return asked;
        });
        container.completeStops();
        assertThat(future.get(10, TimeUnit.SECONDS)).isSameAs(handed.get());
    }

    @Test
    void aZeroTimeoutDetachFailsWhenTheReadEventEndsWithoutTheCloseFrame() {
        connection.readEventBegins();
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Duration.ZERO, handed::complete);
        assertThat(future).isNotDone();
        connection.readEventEnds();
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class)
                .hasMessageEndingWith("the peer's close frame had not arrived (zero timeout)");
    }

    // ---- for containers that pull their bytes (Jetty) ----

    @Test
    void aPullingContainerGetsOneFrameAtATimeAndTheRestStaysForTheNextPull() {
        ByteBuffer bytes = bytes(TEXT_HI + TEXT_HI);
        assertThat(connection.onInboundFrame(bytes)).isTrue();
        assertThat(container.delivered).containsExactly(TEXT_HI);
        assertThat(bytes.remaining()).isEqualTo(TEXT_HI.length() / 2);
        assertThat(connection.onInboundFrame(bytes)).isTrue();
        assertThat(container.delivered).containsExactly(TEXT_HI, TEXT_HI);
        assertThat(bytes.hasRemaining()).isFalse();
    }

    @Test
    void aDetachBetweenTwoPullsLeavesTheNextFrameToTheCore() throws Exception {
        ByteBuffer bytes = bytes(TEXT_HI + CLOSE_1000 + "6869");
        assertThat(connection.onInboundFrame(bytes)).isTrue();
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        assertThat(connection.onInboundFrame(bytes)).as("the close frame is the core's").isFalse();
        assertThat(bytes.hasRemaining()).isFalse();
        container.completeStops();
        DetachedConnection detached = future.get(10, TimeUnit.SECONDS);
        ByteBuffer rest = ByteBuffer.allocate(2);
        assertThat(detached.read(rest).get(10, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(HEX.formatHex(rest.array())).isEqualTo("6869");
        assertThat(container.delivered).containsExactly(TEXT_HI);
        detached.close();
    }

    @Test
    void theDeclaredHandlerIsMadeFromItsClassAndArmedWithItsTimeout() throws Exception {
        @org.wsdetach.DetachOnPeerClose(value = RecordingHandler.class, timeoutMillis = 200)
        final class Declaring {
        }
        connection.detachOnPeerClose(Declaring.class.getAnnotation(org.wsdetach.DetachOnPeerClose.class));
        read("88");
        assertThat(container.transportClosedFuture.get(10, TimeUnit.SECONDS)).as("the declared timeout").isTrue();
    }

    @Test
    void aDeclaredHandlerWithoutAPublicNoArgumentConstructorIsRejected() {
        @org.wsdetach.DetachOnPeerClose(NoDefaultConstructor.class)
        final class Declaring {
        }
        assertThatThrownBy(() -> connection.detachOnPeerClose(Declaring.class.getAnnotation(org.wsdetach.DetachOnPeerClose.class)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("cannot make @DetachOnPeerClose handler " + NoDefaultConstructor.class.getName()
                        + ": it has no public no-argument constructor");
    }

    public static final class RecordingHandler implements org.wsdetach.DetachHandler {
        @Override
        public void onDetached(DetachedConnection detached) {
        }
    }

    public static final class NoDefaultConstructor implements org.wsdetach.DetachHandler {
        public NoDefaultConstructor(String unused) {
        }

        @Override
        public void onDetached(DetachedConnection detached) {
        }
    }

    private void read(String hex) {
        connection.onInbound(bytes(hex));
    }

    private static ByteBuffer bytes(String hex) {
        return ByteBuffer.wrap(HEX.parseHex(hex.replace(" ", "")));
    }
}
