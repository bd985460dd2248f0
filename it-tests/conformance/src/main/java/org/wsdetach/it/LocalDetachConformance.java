package org.wsdetach.it;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import java.lang.reflect.Proxy;
import java.net.ProtocolException;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;
import static org.wsdetach.it.Wire.text;

/** Detaches started by the endpoint ({@link Detach#detach}), against a byte-level peer. */
public abstract class LocalDetachConformance extends ConformanceBase {

    static final CloseReason BYE = new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye");
    static final String SERVER_CLOSE_BYE = "8805" + "03e8" + ascii("bye");

    /** The future the endpoint's detach returned, once it has run. */
    final CompletableFuture<CompletableFuture<DetachedConnection>> stage = new CompletableFuture<>();
    final AtomicReference<Session> session = new AtomicReference<>();

    /** On the text message "go", the endpoint detaches with {@code reason} and {@code timeout}. */
    void detachOnGo(CloseReason reason, Duration timeout) {
        Probe.onText = s -> {
            session.set(s);
            stage.complete(Detach.detach(s, reason, timeout, Probe.HAND_TO_TEST));
        };
    }

    CompletableFuture<DetachedConnection> awaitStage() throws Exception {
        return stage.get(10, TimeUnit.SECONDS);
    }

    @Test
    void exchangesCloseFramesThenHandsOverTheLiveConnection() throws Exception {
        detachOnGo(BYE, Detach.DEFAULT_TIMEOUT);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.writeHex(CLOSE_1000 + HELLO);

            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            write(connection, "world");
            assertThat(peer.readHex(5)).isEqualTo(ascii("world"));
            assertThat(awaitStage().get(10, TimeUnit.SECONDS)).isSameAs(connection);
            assertThat(connection.peerCloseReason().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
            assertThat(connection.getRemoteAddress()).isEqualTo(peer.socket().getLocalSocketAddress());

            connection.close();
            assertThat(peer.readToEnd(0)).isEmpty();
        }
        CloseReason closed = Probe.awaitClose();
        assertThat(closed.getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
        assertThat(closed.getReasonPhrase()).isEqualTo("bye");
        assertThat(session.get().isOpen()).isFalse();
    }

    @Test
    void messagesSentBeforeTheDetachGoOutBeforeTheCloseFrameAndNoneAfterIt() throws Exception {
        CompletableFuture<Throwable> lateSend = new CompletableFuture<>();
        Probe.onText = s -> {
            s.getBasicRemote().sendText("one");
            s.getAsyncRemote().sendText("two");
            Detach.detach(s, BYE, Probe.HAND_TO_TEST);
            try {
                s.getAsyncRemote().sendText("late").get(10, TimeUnit.SECONDS);
                lateSend.complete(null);
            } catch (Exception expected) {
                lateSend.complete(expected);
            }
        };
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo("8103" + ascii("one"));
            assertThat(peer.readFrameHex()).isEqualTo("8103" + ascii("two"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            assertThat(lateSend.get(10, TimeUnit.SECONDS)).isNotNull();
            peer.writeHex(CLOSE_1000);
            DetachedConnection connection = Probe.awaitHanded();
            write(connection, "!");
            assertThat(peer.readHex(1)).as("nothing between our close frame and the handler's bytes")
                    .isEqualTo(ascii("!"));
            connection.close();
        }
    }

    @Test
    void framesBetweenOurCloseAndThePeersAreDiscardedAndPingsGetNoPong() throws Exception {
        detachOnGo(BYE, Detach.DEFAULT_TIMEOUT);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.writeHex(text("late text")
                    + frame(0x2, "00ff00ff")                       // binary
                    + "[0102 6162]" + "[8002 6364]"        // fragmented text "ab" + "cd"
                    + frame(0x9, ascii("ping?"))                   // ping: no pong after our close
                    + frame(0xA, "")                               // unsolicited pong
                    + CLOSE_1000 + HELLO);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            write(connection, "!");
            // The first byte after our close frame is the handler's: no pong, no echo of the discarded frames.
            assertThat(peer.readHex(1)).isEqualTo(ascii("!"));
            connection.close();
        }
    }

    @Test
    void thePeersCloseFrameMaySplitAtAnyByte() throws Exception {
        for (int split = 1; ; split++) {
            Probe.reset();
            Probe.onText = s -> Detach.detach(s, BYE, Probe.HAND_TO_TEST);
            try (SocketPeer peer = peer("/probe")) {
                byte[] closeAndRaw = peer.bytes(CLOSE_1000 + HELLO);
                if (split == closeAndRaw.length) {
                    // This last session ends unused: its @OnClose must not reach the next test.
                    peer.close();
                    Probe.awaitClose();
                    return;
                }
                peer.writeHex(text("go"));
                assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
                peer.write(java.util.Arrays.copyOfRange(closeAndRaw, 0, split));
                peer.write(java.util.Arrays.copyOfRange(closeAndRaw, split, closeAndRaw.length));
                DetachedConnection connection = Probe.awaitHanded();
                assertThat(readText(connection, 5)).as("split at %d", split).isEqualTo("hello");
                connection.close();
            }
        }
    }

    @Test
    void thePeersCloseFrameMayArriveOneByteAtATime() throws Exception {
        detachOnGo(BYE, Detach.DEFAULT_TIMEOUT);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeBytewise(peer.bytes(text("go")));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.writeBytewise(peer.bytes(frame(0x8, "03e8" + ascii("ok")) + HELLO));
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            assertThat(connection.peerCloseReason().getReasonPhrase()).isEqualTo("ok");
            connection.close();
        }
    }

    @Test
    void anAbsentStatusSendsAnEmptyClosePayload() throws Exception {
        detachOnGo(new CloseReason(CloseCodes.NO_STATUS_CODE, ""), Detach.DEFAULT_TIMEOUT);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo("8800");
            peer.writeHex(frame(0x8, ""));
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(connection.peerCloseReason().getCloseCode()).isEqualTo(CloseCodes.NO_STATUS_CODE);
            connection.close();
        }
    }

    @Test
    void aReasonOf123BytesIsSentWhole() throws Exception {
        String reason = "r".repeat(123);
        detachOnGo(new CloseReason(CloseCodes.GOING_AWAY, reason), Detach.DEFAULT_TIMEOUT);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo("887d" + "03e9" + ascii(reason));
            peer.writeHex(CLOSE_1000);
            Probe.awaitHanded().close();
        }
    }

    static Stream<CloseReason> invalidCloseReasons() {
        return Stream.concat(
                IntStream.of(0, 999, 1004, 1006, 1015, 1016, 2999, 5000).mapToObj(code -> new CloseReason(() -> code, "")),
                Stream.of(new CloseReason(CloseCodes.NO_STATUS_CODE, "a reason needs a status"),
                        // CloseReason refuses to be built with 124 bytes; a subclass stands for one that does not.
                        new CloseReason(CloseCodes.NORMAL_CLOSURE, "") {
                            @Override
                            public String getReasonPhrase() {
                                return "r".repeat(124);
                            }
                        }));
    }

    @ParameterizedTest
    @MethodSource("invalidCloseReasons")
    void anInvalidCloseReasonIsRejectedBeforeAnythingIsSent(CloseReason invalid) throws Exception {
        CompletableFuture<Throwable> rejected = new CompletableFuture<>();
        Probe.onText = s -> {
            try {
                Detach.detach(s, invalid, Probe.HAND_TO_TEST);
                rejected.complete(null);
            } catch (IllegalArgumentException expected) {
                rejected.complete(expected);
                s.getBasicRemote().sendText("still open");
            }
        };
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(rejected.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalArgumentException.class);
            // The first frame the peer gets is the message sent after the rejection: nothing went out before it.
            assertThat(peer.readFrameHex()).isEqualTo("810a" + ascii("still open"));
        }
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void aZeroTimeoutFailsUnlessThePeersCloseIsAlreadyHere() throws Exception {
        detachOnGo(BYE, Duration.ZERO);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            assertThatThrownBy(() -> awaitStage().get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TimeoutException.class);
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void aZeroTimeoutSucceedsWhenThePeersCloseCameWithTheMessage() throws Exception {
        detachOnGo(BYE, Duration.ZERO);
        try (SocketPeer peer = peer("/probe")) {
            // One write, one segment: the close frame is already read when @OnMessage detaches.
            peer.writeHex(text("go") + CLOSE_1000 + HELLO);
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            connection.close();
        }
    }

    @Test
    void aSilentPeerTimesOutAndTheConnectionIsClosed() throws Exception {
        Duration timeout = Duration.ofMillis(300);
        detachOnGo(BYE, timeout);
        try (SocketPeer peer = peer("/probe")) {
            long start = System.nanoTime();
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            assertThatThrownBy(() -> awaitStage().get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TimeoutException.class);
            long elapsed = System.nanoTime() - start;
            assertThat(elapsed).isBetween(timeout.toNanos(), TimeUnit.SECONDS.toNanos(10));
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void noDeadlineWaitsPastAnyDefault() throws Exception {
        detachOnGo(BYE, Detach.NO_DEADLINE);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            // Time passing is the point here: the detach must still be waiting after it.
            assertThatThrownBy(() -> awaitStage().get(1, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
            peer.writeHex(CLOSE_1000);
            assertThat(awaitStage().get(10, TimeUnit.SECONDS)).isSameAs(Probe.awaitHanded());
            Probe.awaitHanded().close();
        }
    }

    @Test
    void aResetWhileWaitingFailsWithSocketException() throws Exception {
        detachOnGo(BYE, Detach.NO_DEADLINE);
        SocketPeer peer = peer("/probe");
        peer.writeHex(text("go"));
        assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
        peer.reset();
        assertThatThrownBy(() -> awaitStage().get(10, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SocketException.class);
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void anEndOfStreamWithoutCloseFrameFailsWithSocketException() throws Exception {
        detachOnGo(BYE, Detach.NO_DEADLINE);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.shutdownOutput();
            assertThatThrownBy(() -> awaitStage().get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SocketException.class);
            assertThat(peer.readUntilClosed()).isEmpty();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "[8801 03]",                        // close payload of one byte
            "[8802 03ed]",                      // status 1005 on the wire
            "[8802 03e7]",                      // status 999
            "[8804 03e8 c328]",                 // reason that is not UTF-8
            "[897e 007e]",                      // ping longer than 125 bytes
            "[0900]",                           // fragmented ping
            "[8300]",                           // reserved opcode 3
            "{8802 03e8}",                      // the wrong masking for the peer's role
    })
    void aMalformedFrameWhileWaitingFailsWithProtocolException(String frame) throws Exception {
        detachOnGo(BYE, Detach.NO_DEADLINE);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.writeHex(frame + HELLO);
            assertThatThrownBy(() -> awaitStage().get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ProtocolException.class);
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void cancellingTheFutureAbandonsTheDetachAndClosesTheConnection() throws Exception {
        detachOnGo(BYE, Detach.NO_DEADLINE);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            assertThat(awaitStage().cancel(false)).isTrue();
            assertThat(peer.readUntilClosed()).isEmpty();
            assertThatThrownBy(() -> awaitStage().get()).isInstanceOf(CancellationException.class);
        }
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void aFrameWithTheWrongMaskingNeverLeavesAnOpenSessionThatCannotDetach() throws Exception {
        // RFC 6455 section 5.1 has the receiver fail the connection; some containers accept the frame instead.
        // Either is fine; an open session that refuses to detach is not.
        detachOnGo(BYE, Detach.DEFAULT_TIMEOUT);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex("{8108" + ascii("echo:odd") + "}");
            peer.writeHex(text("go"));
            String first = peer.readFrameHex();
            if (first.equals("8108" + ascii("echo:odd"))) {
                first = peer.readFrameHex();
            }
            if (first.equals(SERVER_CLOSE_BYE)) {
                peer.writeHex(CLOSE_1000 + HELLO);
                DetachedConnection connection = Probe.awaitHanded();
                assertThat(readText(connection, 5)).isEqualTo("hello");
                connection.close();
            } else {
                // Status 1002, with or without a reason.
                assertThat(first).as("the container failed the connection").matches("88[0-7][0-9a-f]03ea.*");
                assertThat(peer.readUntilClosed()).isEmpty();
                assertThat(stage).as("no detach was asked for on a failed connection").isNotDone();
            }
        }
    }

    @Test
    void aDetachRacingThePeersCloseFrameTakesTheBytesBehindItOrIsRefused() throws Exception {
        for (int round = 0; round < 100; round++) {
            Probe.reset();
            CompletableFuture<Object> outcome = new CompletableFuture<>();
            Probe.onText = s -> CompletableFuture.runAsync(() -> {
                try {
                    outcome.complete(Detach.detach(s, BYE, Probe.HAND_TO_TEST));
                } catch (IllegalStateException refused) {
                    outcome.complete(refused);
                }
            });
            try (SocketPeer peer = peer("/probe")) {
                // The close frame and raw bytes come right behind the message that makes the endpoint detach.
                peer.writeHex(text("go") + CLOSE_1000 + HELLO);
                Object result = outcome.get(10, TimeUnit.SECONDS);
                if (result instanceof IllegalStateException) {
                    assertThat(peer.readFrameHex()).as("round %d: the stock reply", round).startsWith("8802" + "03e8");
                } else {
                    assertThat(peer.readFrameHex()).as("round %d", round).isEqualTo(SERVER_CLOSE_BYE);
                    DetachedConnection connection = Probe.awaitHanded();
                    assertThat(readText(connection, 5)).as("round %d", round).isEqualTo("hello");
                    assertThat(((CompletableFuture<?>) result).get(10, TimeUnit.SECONDS)).isSameAs(connection);
                    connection.close();
                }
            }
        }
    }

    @Test
    void aDetachAfterTheApplicationsCloseIsRefusedAndSendsNoSecondCloseFrame() throws Exception {
        CompletableFuture<Throwable> refusal = new CompletableFuture<>();
        Probe.onText = s -> {
            s.close(new CloseReason(CloseCodes.GOING_AWAY, "app"));
            try {
                Detach.detach(s, BYE, Probe.HAND_TO_TEST);
                refusal.complete(null);
            } catch (IllegalStateException expected) {
                refusal.complete(expected);
            }
        };
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo("8805" + "03e9" + ascii("app"));
            assertThat(refusal.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class);
            peer.writeHexUnlessReset(CLOSE_1000);
            assertThat(peer.readUntilClosed()).isEmpty();
        }
    }

    @Test
    void aDetachStillUnderWayWhenTheApplicationClosesIsRefusedAndSendsNoSecondCloseFrame() throws Exception {
        CountDownLatch detachUnderWay = new CountDownLatch(1);
        CountDownLatch closeFrameSent = new CountDownLatch(1);
        // A reason read slowly holds the detach inside the provider, past its open check, until the
        // application's close has sent its close frame; the detach then goes on while @OnClose runs, before
        // the container lets go of the connection. The race of the next case, every time.
        CloseReason slowReason = new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye") {
            private final java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();

            @Override
            public String getReasonPhrase() {
                if (reads.incrementAndGet() == 2) {
                    detachUnderWay.countDown();
                    awaitQuietly(closeFrameSent);
                }
                return super.getReasonPhrase();
            }
        };
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        Probe.onClose = s -> {
            closeFrameSent.countDown();
            outcome.get(10, TimeUnit.SECONDS);
        };
        Probe.onText = s -> {
            CompletableFuture.runAsync(() -> {
                try {
                    outcome.complete(Detach.detach(s, slowReason, Probe.HAND_TO_TEST));
                } catch (IllegalStateException refused) {
                    outcome.complete(refused);
                }
            });
            detachUnderWay.await(10, TimeUnit.SECONDS);
            s.close(new CloseReason(CloseCodes.GOING_AWAY, "app"));
        };
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo("8805" + "03e9" + ascii("app"));
            assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class);
            peer.writeHexUnlessReset(CLOSE_1000);
            assertThat(peer.readUntilClosed()).as("a second close frame").isEmpty();
        }
    }

    @Test
    void aDetachRacingTheApplicationsCloseSendsExactlyOneCloseFrame() throws Exception {
        for (int round = 0; round < 30; round++) {
            Probe.reset();
            CompletableFuture<Object> outcome = new CompletableFuture<>();
            Probe.onText = s -> {
                CountDownLatch start = new CountDownLatch(1);
                CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
                    awaitQuietly(start);
                    try {
                        s.close(new CloseReason(CloseCodes.GOING_AWAY, "app"));
                    } catch (Exception ignored) {
                        // Closing a session that is detaching may fail; one close frame is what counts.
                    }
                });
                CompletableFuture.runAsync(() -> {
                    awaitQuietly(start);
                    try {
                        outcome.complete(Detach.detach(s, BYE, Probe.HAND_TO_TEST));
                    } catch (IllegalStateException refused) {
                        outcome.complete(refused);
                    }
                });
                start.countDown();
                closing.get(10, TimeUnit.SECONDS);
            };
            try (SocketPeer peer = peer("/probe")) {
                peer.writeHex(text("go"));
                String close = peer.readFrameHex();
                assertThat(close).as("round %d", round).isIn(SERVER_CLOSE_BYE, "8805" + "03e9" + ascii("app"));
                Object result = outcome.get(10, TimeUnit.SECONDS);
                if (close.equals(SERVER_CLOSE_BYE)) {
                    assertThat(result).as("round %d: the detach wrote the close frame", round)
                            .isInstanceOf(CompletableFuture.class);
                    peer.writeHex(CLOSE_1000);
                    DetachedConnection connection = Probe.awaitHanded();
                    write(connection, "!");
                    assertThat(peer.readHex(1)).as("round %d: nothing between the close frame and the raw bytes",
                            round).isEqualTo(ascii("!"));
                    connection.close();
                } else {
                    assertThat(result).as("round %d: the application's close came first", round)
                            .isInstanceOf(IllegalStateException.class);
                    peer.writeHexUnlessReset(CLOSE_1000);
                }
                assertThat(peer.readUntilClosed()).as("round %d: a second close frame", round).isEmpty();
            }
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void aSessionDetachesOnceOnly() throws Exception {
        CompletableFuture<Throwable> second = new CompletableFuture<>();
        Probe.onText = s -> {
            Detach.detach(s, BYE, Probe.HAND_TO_TEST);
            try {
                Detach.detach(s, BYE, Probe.HAND_TO_TEST);
                second.complete(null);
            } catch (IllegalStateException expected) {
                second.complete(expected);
            }
        };
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(second.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class);
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.writeHex(CLOSE_1000);
            Probe.awaitHanded().close();
        }
    }

    @Test
    void aClosedSessionCannotDetach() throws Exception {
        Probe.onText = s -> {
            session.set(s);
            s.close();
        };
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            // Some containers (Jetty) run @OnClose of a session closed by the application only once the peer has
            // answered its close frame.
            peer.writeHexUnlessReset(CLOSE_1000);
            Probe.awaitClose();
        }
        assertThatThrownBy(() -> Detach.detach(session.get(), BYE, Probe.HAND_TO_TEST))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> Detach.detachOnPeerClose(session.get(), Probe.HAND_TO_TEST))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aSessionNoProviderKnowsIsUnsupported() {
        Session foreign = (Session) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[]{Session.class},
                (proxy, method, args) -> method.getName().equals("isOpen") ? Boolean.TRUE : null);
        assertThatThrownBy(() -> Detach.detach(foreign, BYE, Probe.HAND_TO_TEST))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> Detach.detachOnPeerClose(foreign, Probe.HAND_TO_TEST))
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void aDetachFromOnOpenClosesTheSessionAtOnce() throws Exception {
        Probe.onOpen = s -> stage.complete(Detach.detach(s, BYE, Probe.HAND_TO_TEST));
        try (SocketPeer peer = peer("/probe")) {
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            assertThat(Probe.awaitClose().getReasonPhrase()).isEqualTo("bye");
            peer.writeHex(CLOSE_1000 + HELLO);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            connection.close();
        }
    }

    @Test
    void theDetachedSessionIsClosedOnceAndLeavesTheOpenSessions() throws Exception {
        detachOnGo(BYE, Detach.DEFAULT_TIMEOUT);
        CompletableFuture<Session> witness = new CompletableFuture<>();
        try (SocketPeer peer = peer("/probe"); SocketPeer other = peer("/probe")) {
            Probe.onText = s -> {
                if (session.get() == null) {
                    session.set(s);
                    stage.complete(Detach.detach(s, BYE, Probe.HAND_TO_TEST));
                } else {
                    witness.complete(s);
                }
            };
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.writeHex(CLOSE_1000);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
            assertThat(session.get().isOpen()).isFalse();
            boolean openInOnCloseOfTheDetach = Probe.openInOnClose.get(10, TimeUnit.SECONDS);

            other.writeHex(text("go"));
            assertThat(witness.get(10, TimeUnit.SECONDS).getOpenSessions())
                    .containsExactly(witness.get()).doesNotContain(session.get());

            // In @OnClose the session looks as when the application closes it: Tyrus and Jetty have it closed,
            // Tomcat still open (closing).
            Probe.openInOnClose = new CompletableFuture<>();
            witness.get().close();
            assertThat(other.readFrameHex()).isEqualTo("8802" + "03e8");
            other.writeHex(CLOSE_1000);
            assertThat(Probe.openInOnClose.get(10, TimeUnit.SECONDS)).isEqualTo(openInOnCloseOfTheDetach);
            Probe.awaitClose();

            write(connection, "x");
            assertThat(peer.readHex(1)).isEqualTo(ascii("x"));
            connection.close();
        }
        assertThat(Probe.closes).as("@OnClose ran once per session").isEmpty();
    }

    @Test
    void theSessionIdleTimeoutDoesNotCloseADetachedConnection() throws Exception {
        Probe.onText = s -> {
            s.setMaxIdleTimeout(200);
            Detach.detach(s, BYE, Probe.HAND_TO_TEST);
        };
        try (SocketPeer peer = peer("/probe")) {
            // A round trip first: Tyrus runs an idle check at once when a session opens, which would see 200 ms
            // as already exceeded if the timeout were set in @OnOpen.
            peer.writeHex(text("echo:x"));
            peer.readFrameHex();
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.writeHex(CLOSE_1000);
            DetachedConnection connection = Probe.awaitHanded();
            // Let several idle timeouts pass with no traffic: the peer must see neither bytes nor a close.
            peer.socket().setSoTimeout(1000);
            assertThatThrownBy(() -> peer.readExactly(1)).isInstanceOf(java.net.SocketTimeoutException.class);
            peer.socket().setSoTimeout(SocketPeer.TIMEOUT_MILLIS);
            peer.write("ping".getBytes());
            assertThat(readText(connection, 4)).isEqualTo("ping");
            write(connection, "pong");
            assertThat(peer.readHex(4)).isEqualTo(ascii("pong"));
            connection.close();
        }
    }
}
