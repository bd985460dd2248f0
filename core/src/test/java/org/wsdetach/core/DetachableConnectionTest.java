package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
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
    /** A detach asked for once the peer's close frame has reached the container says how it should have been done. */
    private static final String CLOSING_AFTER_PEERS_CLOSE = "the session is closing: the peer's close frame has arrived "
            + "with no handler registered for it: a detach the peer starts must be registered before its close frame "
            + "comes, with Detach.detachOnPeerClose or @DetachOnPeerClose (a client whose server detaches registers it "
            + "before sending the message that makes the server detach)";

    private FakeServerSide side;
    private DetachThreads threads;
    private FakeContainer container;
    private DetachableConnection connection;
    private final CompletableFuture<DetachedConnection> handed = new CompletableFuture<>();

    @BeforeEach
    void setUp() throws IOException {
        side = new FakeServerSide("core-test");
        threads = side.threads;
        container = side.container;
        connection = side.connection;
    }

    @AfterEach
    void tearDown() throws IOException {
        side.close();
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
                .isEqualTo(CLOSING_AFTER_PEERS_CLOSE);
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
    void aPlainTransportIsHandedOverWithoutTlsSession() throws Exception {
        DetachedConnection detached = detachAndHandOver();
        assertThat(detached.sslSession()).isEmpty();
        assertThat(detached.unwrap(SSLEngine.class)).isEmpty();
        detached.close();
    }

    @Test
    void aTlsTransportIsHandedOverAsATlsConnectionOverItsEngine() throws Exception {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine();
        container.tlsEngine = engine;
        DetachedConnection detached = detachAndHandOver();
        assertThat(detached.sslSession()).isPresent();
        assertThat(detached.unwrap(SSLEngine.class)).containsSame(engine);
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
                .hasMessage(CLOSING_AFTER_PEERS_CLOSE);
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

    // ---- the client's side ----

    @Test
    void aClientMasksItsCloseFrameAndReadsTheServersUnmaskedFrames() throws Exception {
        DetachableConnection client = DetachableConnection.forClient(container, threads);
        container.connection = client;
        CompletableFuture<DetachedConnection> future = client.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        assertThat(container.written).singleElement().asString().startsWith("8885 ");
        byte[] frame = HEX.parseHex(container.written.get(0).replace(" ", ""));
        byte[] payload = new byte[5];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (frame[6 + i] ^ frame[2 + (i & 3)]);
        }
        assertThat(HEX.formatHex(payload)).isEqualTo("03e8627965");

        client.onInbound(bytes(UNMASKED_TEXT_HI + "880203e8" + "6869"));
        container.completeStops();
        DetachedConnection detached = future.get(10, TimeUnit.SECONDS);
        assertThat(detached.peerCloseReason().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
        ByteBuffer rest = ByteBuffer.allocate(2);
        assertThat(detached.read(rest).get(10, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(HEX.formatHex(rest.array())).isEqualTo("6869");
        detached.close();
    }

    @Test
    void aClientsMaskingKeysDiffer() {
        // RFC 6455 section 5.3: unpredictable keys; two equal ones in a row from SecureRandom is a bug.
        List<String> frames = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            FakeContainer other = new FakeContainer();
            DetachableConnection client = DetachableConnection.forClient(other, threads);
            other.connection = client;
            client.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
            frames.addAll(other.written);
        }
        assertThat(frames).hasSize(2).doesNotHaveDuplicates();
    }

    @Test
    void aServersCloseFrameIsUnmasked() {
        connection.detach(new CloseReason(CloseCodes.GOING_AWAY, ""), Detach.DEFAULT_TIMEOUT, handed::complete);
        assertThat(container.written).containsExactly("8802 03e9");
    }

    // ---- what ends the chance to detach ----

    @Test
    void theContainerReleasingTheConnectionEndsItsChanceToDetach() {
        assertThat(connection.onContainerReleases()).isTrue();
        assertThatThrownBy(() -> connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the session is closing: the container has closed it");
        assertThatThrownBy(() -> connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handed::complete))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the session is closing: the container has closed it");
        assertThat(container.written).isEmpty();
    }

    @Test
    void theTransportClosingWithoutADetachEndsTheChanceToDetach() {
        connection.onTransportClosed("end of stream", null);
        assertThat(container.transportClosed).isFalse();
        assertThatThrownBy(() -> connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the session is closing: the connection has closed");
    }

    @Test
    void aProtocolErrorWhileTheContainerHasTheStreamIsTheContainersAndEndsTheChanceToDetach() {
        read(TEXT_HI + "8300" + TEXT_HI);
        assertThat(container.delivered).containsExactly(TEXT_HI, "8300" + TEXT_HI);
        assertThatThrownBy(() -> connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the session is closing: the peer broke the WebSocket protocol");
    }

    @Test
    void onceClosingEveryByteGoesToTheContainerAsItComes() {
        read(CLOSE_1000);
        read(TEXT_HI + TEXT_HI);
        assertThat(container.delivered).containsExactly(CLOSE_1000, TEXT_HI + TEXT_HI);
        assertThat(connection.onFrameStart((byte) 0x81)).isTrue();
        assertThat(connection.onFrameStart((byte) 0x88)).isTrue();
        assertThat(connection.detachStarted()).isFalse();
    }

    @Test
    void aCloseFrameInTheMiddleOfAChunkIsTheContainersWithEverythingAfterIt() {
        read(TEXT_HI + CLOSE_1000 + TEXT_HI);
        assertThat(container.delivered).containsExactly(TEXT_HI, CLOSE_1000 + TEXT_HI);
    }

    // ---- failures of a detach ----

    @Test
    void theTransportClosingBeforeThePeersCloseFrameFailsTheDetach() {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        IOException reset = new IOException("reset");
        connection.onTransportClosed("reset by the peer", reset);
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(java.net.SocketException.class)
                .hasMessage("connection closed (reset by the peer) before the peer's close frame")
                .cause().isSameAs(reset);
        assertThat(container.transportClosed).isTrue();
        assertThat(handed).isNotDone();
    }

    @Test
    void theTransportClosingDuringTheHandOverFailsTheDetach() {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read(CLOSE_1000);
        connection.onTransportClosed("end of stream", null);
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(java.net.SocketException.class)
                .hasMessage("connection closed (end of stream) during the hand-over");
        assertThat(container.transportClosed).isTrue();
        container.completeStops();
        assertThat(handed).isNotDone();
    }

    @Test
    void aCloseFrameThatCannotBeSentFailsTheDetach() {
        IOException broken = new IOException("broken pipe");
        container.writeFailure = broken;
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(java.net.SocketException.class)
                .hasMessage("could not send the close frame").cause().isSameAs(broken);
        assertThat(container.transportClosed).isTrue();
        assertThat(threads.timer.getQueue()).as("deadlines left scheduled").isEmpty();
    }

    @Test
    void aFailureBetweenTheReadersLookAtTheStateAndThePeersCloseFrameLeavesThatFrameUnanswered() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        CompletableFuture<Void> reading = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                read(CLOSE_1000 + "6869");
                reading.complete(null);
            } catch (RuntimeException | Error e) {
                reading.completeExceptionally(e);
            }
        }, "reader");
        synchronized (connection.lock) {
            reader.start();
            // Blocked there, the reader has seen a detach awaiting the peer's close frame, and has read that frame.
            awaitBlockedOn(connection.lock, reader);
            assertThat(future.cancel(false)).isTrue();
        }
        reading.get(10, TimeUnit.SECONDS);

        assertThat(container.stopAsked).as("asked to stop reading").isFalse();
        assertThat(container.written).as("frames written").hasSize(1);
        assertThat(handed).isNotDone();
    }

    @Test
    void cancellingTheFutureAbandonsTheDetachAndClosesTheTransport() {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        assertThat(future.cancel(false)).isTrue();
        assertThat(container.transportClosed).isTrue();
        read(CLOSE_1000);
        assertThat(container.stopAsked).isFalse();
        assertThat(handed).isNotDone();
        assertThat(connection.toString()).endsWith(", FAILED]");
    }

    @Test
    void aDetachCancelledWhileItsConnectionIsHandedOverClosesThatConnectionInsteadOfHandingItOver() {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        container.onRelease = () -> assertThat(future.cancel(false)).as("cancelled").isTrue();
        read(CLOSE_1000 + "6869");
        container.completeStops();

        assertThat(future).isCancelled();
        assertThat(handed).isNotDone();
        assertThat(container.channels).as("the loopback pair handed over").hasSize(2);
        assertThat(container.channels.get(1).isOpen()).as("the server's end is open").isFalse();
    }

    @Test
    void theRefusalForASessionNoLongerOpenNamesTheSessionAndWhenToRegister() {
        assertThat(DetachableConnection.sessionNotOpen("session-7")).hasMessage("session session-7 is not open: it "
                + "has closed, or its close has begun; to detach when the peer closes, register Detach.detachOnPeerClose "
                + "(or @DetachOnPeerClose) before the peer's close frame arrives: in @OnOpen, or before sending the "
                + "message that makes the peer detach");
    }

    @Test
    void completingTheFutureOtherwiseIsNoCancellation() {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        future.completeExceptionally(new IllegalStateException("not by the core"));
        assertThat(container.transportClosed).isFalse();
    }

    @Test
    void aMalformedCloseFrameInAPeerInitiatedDetachIsAnsweredWithProtocolError() {
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handed::complete);
        read("8881000000" + "0003");
        assertThat(container.written).containsExactly("8802 03ea");
        assertThat(container.closedSessions).singleElement().satisfies(reason -> {
            assertThat(reason.getCloseCode()).isEqualTo(CloseCodes.PROTOCOL_ERROR);
            assertThat(reason.getReasonPhrase()).isEqualTo("detach failed");
        });
        assertThat(container.transportClosed).isTrue();
        assertThat(handed).isNotDone();
    }

    @Test
    void aMalformedFrameWhileWaitingInALocalDetachSendsNoSecondCloseFrame() {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read("8881000000" + "0003");
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(ProtocolException.class)
                .hasMessage("while waiting for the peer's close frame: close payload of 1 byte");
        assertThat(container.written).containsExactly("8805 03e8 627965");
        assertThat(container.closedSessions).singleElement().isSameAs(BYE);
    }

    @Test
    void aHandOverThatFailsClosesTheTransportAndFailsTheFuture() {
        IllegalStateException failure = new IllegalStateException("the container cannot let go");
        container.releaseFailure = failure;
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read(CLOSE_1000);
        container.completeStops();
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).cause().isSameAs(failure);
        assertThat(container.transportClosed).isTrue();
        assertThat(handed).isNotDone();
    }

    @Test
    void aHandlerThatThrowsHasItsConnectionClosed() throws Exception {
        CompletableFuture<DetachedConnection> given = new CompletableFuture<>();
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, detached -> {
            given.complete(detached);
            throw new IllegalStateException("thrown on purpose by a test handler");
        });
        read(CLOSE_1000);
        container.completeStops();
        assertThat(given.get(10, TimeUnit.SECONDS).isOpen()).isFalse();
    }

    @Test
    void aDeadlineWhenTheTimerIsShutDownFailsTheDetachAtOnce() {
        threads.timer.shutdownNow();
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Duration.ofSeconds(30), handed::complete);
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(TimeoutException.class)
                .hasMessage("the server is stopping");
    }

    @Test
    void withoutADeadlineNoTimerIsArmed() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.NO_DEADLINE, handed::complete);
        assertThat(threads.timer.getQueue()).isEmpty();
        read(CLOSE_1000);
        container.completeStops();
        future.get(10, TimeUnit.SECONDS).close();
    }

    @Test
    void aDeadlineIsArmedAndCancelledOnceTheHandOverIsDone() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Duration.ofSeconds(30), handed::complete);
        assertThat(threads.timer.getQueue()).hasSize(1);
        read(CLOSE_1000);
        container.completeStops();
        future.get(10, TimeUnit.SECONDS).close();
        assertThat(threads.timer.getQueue()).isEmpty();
    }

    @Test
    void aZeroTimeoutGivesTheHandOverTheDefaultDeadline() throws Exception {
        connection.readEventBegins();
        connection.detach(BYE, Duration.ZERO, handed::complete);
        assertThat(threads.timer.getQueue()).singleElement()
                .satisfies(task -> assertThat(((java.util.concurrent.ScheduledFuture<?>) task).getDelay(TimeUnit.SECONDS))
                        .isBetween(Detach.DEFAULT_TIMEOUT.toSeconds() - 10, Detach.DEFAULT_TIMEOUT.toSeconds()));
        connection.readEventEnds();
    }

    @Test
    void aFailedDetachCancelsItsDeadline() {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Duration.ofSeconds(30), handed::complete);
        connection.onTransportClosed("end of stream", null);
        assertThat(future).isCompletedExceptionally();
        assertThat(threads.timer.getQueue()).isEmpty();
    }

    // ---- the reading thread ----

    @Test
    void bytesAfterTheCloseFrameInLaterReadsAreKeptInOrder() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read(CLOSE_1000 + "61");
        read("6263");
        read("");
        read("64");
        container.completeStops();
        DetachedConnection detached = future.get(10, TimeUnit.SECONDS);
        ByteBuffer rest = ByteBuffer.allocate(4);
        assertThat(detached.read(rest).get(10, TimeUnit.SECONDS)).isEqualTo(4);
        assertThat(HEX.formatHex(rest.array())).isEqualTo("61626364");
        detached.close();
    }

    @Test
    void aCloseFrameSplitAcrossReadsWhileWaitingCompletesTheDetach() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read(TEXT_HI.substring(0, 6));
        read(TEXT_HI.substring(6) + CLOSE_1000.substring(0, 4));
        assertThat(container.stopAsked).isFalse();
        read(CLOSE_1000.substring(4));
        container.completeStops();
        DetachedConnection detached = future.get(10, TimeUnit.SECONDS);
        assertThat(detached.peerCloseReason().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
        assertThat(container.delivered).isEmpty();
        detached.close();
    }

    @Test
    void afterTheHandOverWhatTheContainerStillReadsIsDropped() throws Exception {
        DetachedConnection detached = detachAndHandOver();
        read(TEXT_HI);
        assertThat(container.delivered).isEmpty();
        assertThat(connection.onFrameStart((byte) 0x81)).isFalse();
        assertThat(connection.toString()).endsWith(", DETACHED]");
        detached.close();
    }

    @Test
    void aZeroTimeoutDetachAskedWhileTheContainerHandlesAFrameSucceedsIfTheCloseFrameFollows() throws Exception {
        List<CompletableFuture<DetachedConnection>> asked = new ArrayList<>();
        container.onDeliver = bytes -> asked.add(connection.detach(BYE, Duration.ZERO, handed::complete));
        read(TEXT_HI + CLOSE_1000 + "6869");
        container.completeStops();
        assertThat(asked).singleElement().satisfies(future ->
                assertThat(future.get(10, TimeUnit.SECONDS)).isSameAs(handed.get()));
    }

    @Test
    void aZeroTimeoutDetachAskedWhileTheContainerHandlesAFrameFailsIfTheReadHasNoCloseFrame() {
        List<CompletableFuture<DetachedConnection>> asked = new ArrayList<>();
        container.onDeliver = bytes -> asked.add(connection.detach(BYE, Duration.ZERO, handed::complete));
        read(TEXT_HI + TEXT_HI.substring(0, 4));
        assertThat(asked).singleElement().satisfies(future -> {
            assertThat(future).isCompletedExceptionally();
            assertThatThrownBy(future::get).cause().isInstanceOf(TimeoutException.class)
                    .hasMessage("the peer's close frame had not arrived (zero timeout)");
        });
        assertThat(container.transportClosed).isTrue();
    }

    @Test
    void aDetachWithATimeoutAskedWhileTheContainerHandlesAFrameWaitsPastTheReadForTheCloseFrame() throws Exception {
        List<CompletableFuture<DetachedConnection>> asked = new ArrayList<>();
        container.onDeliver = bytes -> asked.add(connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete));
        read(TEXT_HI);
        assertThat(asked).singleElement().satisfies(future -> assertThat(future).isNotDone());

        read(CLOSE_1000);
        container.completeStops();
        assertThat(asked.get(0).get(10, TimeUnit.SECONDS)).isSameAs(handed.get());
    }

    @Test
    void aNestedReadEventLeavesTheZeroTimeoutToTheOuterOne() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.reading(() -> {
            CompletableFuture<DetachedConnection> inner = connection.reading(
                    () -> connection.detach(BYE, Duration.ZERO, handed::complete));
            assertThat(inner).isNotDone();
            read(CLOSE_1000);
            return inner;
        });
        container.completeStops();
        assertThat(future.get(10, TimeUnit.SECONDS)).isSameAs(handed.get());
    }

    @Test
    void aPullingContainerGetsNothingOnceTheCoreHasTheStream() {
        connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        ByteBuffer bytes = bytes(TEXT_HI);
        assertThat(connection.onInboundFrame(bytes)).isFalse();
        assertThat(bytes.hasRemaining()).isFalse();
        assertThat(container.delivered).isEmpty();
    }

    // ---- a peer-initiated detach ----

    @Test
    void theReplyCarriesThePeersStatusWithoutItsReason() throws Exception {
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handed::complete);
        read("8885000000000fa0686921");
        container.completeStops();
        DetachedConnection detached = handed.get(10, TimeUnit.SECONDS);
        assertThat(container.written).containsExactly("8802 0fa0");
        assertThat(detached.peerCloseReason().getCloseCode().getCode()).isEqualTo(4000);
        assertThat(detached.peerCloseReason().getReasonPhrase()).isEqualTo("hi!");
        assertThat(container.closedSessions).singleElement().isSameAs(detached.peerCloseReason());
        detached.close();
    }

    @Test
    void anEmptyCloseFrameIsAnsweredWithAnEmptyOne() throws Exception {
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handed::complete);
        read("888000000000");
        container.completeStops();
        DetachedConnection detached = handed.get(10, TimeUnit.SECONDS);
        assertThat(container.written).containsExactly("8800");
        assertThat(detached.peerCloseReason().getCloseCode()).isEqualTo(CloseCodes.NO_STATUS_CODE);
        detached.close();
    }

    @Test
    void aLaterRegistrationReplacesTheHandler() throws Exception {
        CompletableFuture<DetachedConnection> first = new CompletableFuture<>();
        connection.detachOnPeerClose(Duration.ofMillis(1), first::complete);
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handed::complete);
        read(CLOSE_1000);
        container.completeStops();
        handed.get(10, TimeUnit.SECONDS).close();
        assertThat(first).isNotDone();
    }

    @Test
    void aDeclaredHandlerWhoseConstructorThrowsIsRejectedWithItsCause() {
        @org.wsdetach.DetachOnPeerClose(ThrowingConstructor.class)
        final class Declaring {
        }
        assertThatThrownBy(() -> connection.detachOnPeerClose(Declaring.class.getAnnotation(org.wsdetach.DetachOnPeerClose.class)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the constructor of @DetachOnPeerClose handler " + ThrowingConstructor.class.getName()
                        + " threw java.lang.IllegalStateException: thrown on purpose by a test handler's constructor")
                .cause().hasMessage("thrown on purpose by a test handler's constructor");
    }

    @Test
    void theDescriptionNamesTheContainerAndTheState() {
        assertThat(connection.toString()).isEqualTo("DetachableConnection[" + container + ", OPEN]");
        connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        assertThat(connection.toString())
                .isEqualTo("DetachableConnection[" + container + ", AWAITING_PEER_CLOSE conditions met 0b101]");
    }

    @Test
    void aDetachWithATimeoutAskedByTheReaderWaitsPastTheEndOfTheRead() {
        CompletableFuture<DetachedConnection> future = connection.reading(() -> {
            CompletableFuture<DetachedConnection> asked = connection.detach(BYE, Duration.ofSeconds(30), handed::complete);
            read(TEXT_HI);
            return asked;
        });
        assertThat(future).isNotDone();
        assertThat(container.transportClosed).isFalse();
    }

    @Test
    void aZeroTimeoutDetachInAReadEventWaitsForTheEndOfTheEventNotOfEachRead() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.reading(() -> {
            CompletableFuture<DetachedConnection> asked = connection.detach(BYE, Duration.ZERO, handed::complete);
            read(TEXT_HI);
            read(CLOSE_1000);
            return asked;
        });
        container.completeStops();
        assertThat(future.get(10, TimeUnit.SECONDS)).isSameAs(handed.get());
    }

    @Test
    void aZeroTimeoutDetachInAReadEventFailsWhenTheEventEndsWithoutTheCloseFrame() {
        CompletableFuture<DetachedConnection> future = connection.reading(() -> {
            CompletableFuture<DetachedConnection> asked = connection.detach(BYE, Duration.ZERO, handed::complete);
            read(TEXT_HI);
            assertThat(asked).isNotDone();
            return asked;
        });
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(TimeoutException.class);
        assertThat(container.transportCloses).isEqualTo(1);
    }

    @Test
    void aCloseFrameArrivingAtAnOffsetOfTheAdaptersBufferIsReadFromThere() throws Exception {
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handed::complete);
        // The adapter's buffer holds bytes before its position that are not the stream's.
        ByteBuffer buffer = bytes("deadbeef" + CLOSE_1000 + "6869").position(4);
        connection.onInbound(buffer);
        container.completeStops();
        DetachedConnection detached = handed.get(10, TimeUnit.SECONDS);
        assertThat(buffer.hasRemaining()).isFalse();
        ByteBuffer rest = ByteBuffer.allocate(2);
        assertThat(detached.read(rest).get(10, TimeUnit.SECONDS)).isEqualTo(2);
        assertThat(HEX.formatHex(rest.array())).isEqualTo("6869");
        detached.close();
    }

    @Test
    void aPayloadByteThatLooksLikeACloseFrameStartIsNoCloseFrame() throws Exception {
        read("818200000000");
        read("8869");
        assertThat(container.delivered).containsExactly("818200000000", "8869");
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read(CLOSE_1000);
        container.completeStops();
        future.get(10, TimeUnit.SECONDS).close();
    }

    @Test
    void anEmptyContainerWriteIsWrittenAndNoCloseFrame() {
        List<String> writes = new ArrayList<>();
        assertThat(connection.onContainerWrite(ByteBuffer.allocate(0), () -> writes.add("empty")))
                .isEqualTo(ContainerWrite.WRITTEN);
        assertThat(writes).containsExactly("empty");
        connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
    }

    @Test
    void aLocalDetachClosesTheSessionOnceAndSendsOneCloseFrame() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read(CLOSE_1000);
        container.completeStops();
        future.get(10, TimeUnit.SECONDS).close();
        assertThat(container.closedSessions).containsExactly(BYE);
        assertThat(container.written).containsExactly("8805 03e8 627965");
    }

    @Test
    void theLongestCountableTimeoutArmsNoTimerEither() throws Exception {
        connection.detach(BYE, Duration.ofNanos(Long.MAX_VALUE), handed::complete);
        assertThat(threads.timer.getQueue()).isEmpty();
    }

    @Test
    void aFailedHandOverOfAPeerInitiatedDetachClosesTheTransport() {
        container.releaseFailure = new IllegalStateException("the container cannot let go");
        connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handed::complete);
        read(CLOSE_1000);
        container.completeStops();
        assertThat(container.transportCloses).isEqualTo(1);
        assertThat(handed).isNotDone();
    }

    @Test
    void aSecondFailureOfTheSameDetachDoesNothing() {
        container.writeFailure = new IOException("broken pipe");
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Duration.ZERO, handed::complete);
        assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(java.net.SocketException.class);
        assertThat(container.transportCloses).isEqualTo(1);
    }

    @Test
    void aPeerInitiatedDetachThatTimesOutSendsNoProtocolError() throws Exception {
        connection.detachOnPeerClose(Duration.ofMillis(200), handed::complete);
        read("88");
        assertThat(container.transportClosedFuture.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(container.written).isEmpty();
        assertThat(container.closedSessions).singleElement().satisfies(reason -> {
            assertThat(reason.getCloseCode()).isEqualTo(CloseCodes.CLOSED_ABNORMALLY);
            assertThat(reason.getReasonPhrase()).isEqualTo("detach failed");
        });
    }

    public static final class ThrowingConstructor implements org.wsdetach.DetachHandler {
        public ThrowingConstructor() {
            throw new IllegalStateException("thrown on purpose by a test handler's constructor");
        }

        @Override
        public void onDetached(DetachedConnection detached) {
        }
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

    /** Waits up to 10 seconds for {@code thread} to block on entering {@code monitor}, which the caller holds. */
    private static void awaitBlockedOn(Object monitor, Thread thread) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (;;) {
            ThreadInfo info = ManagementFactory.getThreadMXBean().getThreadInfo(thread.getId());
            if (info != null && info.getThreadState() == Thread.State.BLOCKED && info.getLockInfo() != null
                    && info.getLockInfo().getIdentityHashCode() == System.identityHashCode(monitor)) {
                return;
            }
            assertThat(thread.isAlive()).as("thread alive").isTrue();
            assertThat(System.nanoTime() - deadline).as("blocked within 10 s").isNegative();
            Thread.yield();
        }
    }

    /** Detaches {@link #connection}, feeds it the peer's close frame and returns the connection handed over. */
    private DetachedConnection detachAndHandOver() throws Exception {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, handed::complete);
        read(CLOSE_1000);
        container.completeStops();
        return future.get(10, TimeUnit.SECONDS);
    }

    private void read(String hex) {
        connection.onInbound(bytes(hex));
    }

    private static ByteBuffer bytes(String hex) {
        return ByteBuffer.wrap(HEX.parseHex(hex.replace(" ", "")));
    }
}
