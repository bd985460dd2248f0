package org.wsdetach.it;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ProtocolException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;
import static org.wsdetach.it.Wire.text;

/**
 * Peers that fail or misbehave at each stage of a detach, and detaches that race other work. In every case the
 * outcome is one the {@link Detach} javadoc documents, the connection ends, {@code @OnClose} runs exactly once,
 * and the handler gets the connection only on success. Plain {@code ws}; a subclass of the TLS variant overrides
 * {@link #start} and {@link #tls} as {@link TlsDetachConformance} does.
 */
public abstract class FaultConformance extends ConformanceBase {

    static final CloseReason BYE = new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye");
    static final String SERVER_CLOSE_BYE = "8805" + "03e8" + ascii("bye");
    static final Duration BRIEF = Duration.ofMillis(300);
    /** Against a close frame dribbled one byte a second: two of its bytes arrive in time, the frame never. */
    static final Duration DRIBBLE_DEADLINE = Duration.ofMillis(1500);

    /** What the endpoint's detach gave: its future, or what it threw. */
    final CompletableFuture<Object> outcome = new CompletableFuture<>();

    /** On the text message "go", the endpoint detaches with {@code timeout}. */
    void detachOnGo(Duration timeout) {
        Probe.onText = session -> {
            try {
                outcome.complete(Detach.detach(session, BYE, timeout, Probe.HAND_TO_TEST));
            } catch (RuntimeException refused) {
                outcome.complete(refused);
            }
        };
    }

    /** The endpoint's detach, which must fail: what its future failed with, or what it threw. */
    Throwable failure() throws Exception {
        Object result = outcome.get(10, TimeUnit.SECONDS);
        if (result instanceof CompletableFuture<?> future) {
            try {
                future.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException failed) {
                return failed.getCause();
            }
            return fail("the detach succeeded");
        }
        return (Throwable) result;
    }

    /**
     * Reads our close frame and waits for the endpoint's detach call to return: {@code @OnClose} has run, and the
     * detach waits for the peer's close frame.
     */
    void awaitOurCloseFrame(SocketPeer peer) throws Exception {
        assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
        assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(CompletableFuture.class);
        awaitOurOnClose();
    }

    /**
     * Waits for {@code @OnClose} with our reason: a container that runs it from its reader (Jetty) may run it
     * just after the detach has returned, and a fault of the peer before that would give it another reason.
     */
    void awaitOurOnClose() throws Exception {
        CloseReason ours = Probe.awaitClose();
        assertThat(ours.getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
        assertThat(ours.getReasonPhrase()).isEqualTo("bye");
        onCloseSeen = true;
    }

    /** Whether {@link #awaitOurCloseFrame} has seen {@code @OnClose} run already. */
    private boolean onCloseSeen;

    /** {@code @OnClose} ran once, with {@code code}, and the handler never got the connection. */
    void assertClosedOnceWithoutHandOver(CloseCodes code) throws Exception {
        if (!onCloseSeen) {
            CloseReason first = Probe.awaitClose();
            assertThat(first.getCloseCode()).as("%s, then %s", first, Probe.closes).isEqualTo(code);
        }
        assertThat(Probe.closes).as("@OnClose once").isEmpty();
        assertThat(Probe.handed).as("no hand-over").isNotDone();
    }

    /**
     * A peer whose session is open: its endpoint has echoed a message. Right after the handshake response the
     * session may not be open yet, and a connection that fails then never opens one, nor closes it.
     */
    SocketPeer openPeer(String path) throws Exception {
        SocketPeer peer = peer(path);
        peer.writeHex(text("echo:open"));
        assertThat(peer.readFrameHex()).isEqualTo("8109" + ascii("echo:open"));
        return peer;
    }

    /** The end of a connection: nothing, or one server close frame (a container's own close on its way out). */
    static void assertNothingOrOneCloseFrame(byte[] answer) {
        if (answer.length > 0) {
            assertThat(answer.length).as(Wire.hexOf(answer)).isGreaterThanOrEqualTo(2);
            assertThat(answer[0]).as(Wire.hexOf(answer)).isEqualTo((byte) 0x88);
            assertThat(answer.length).as(Wire.hexOf(answer)).isEqualTo(2 + answer[1]);
        }
    }

    /**
     * A peer writing {@code bytes} one at a time, a second apart, until the server cuts the connection or the test
     * has seen what it waited for and closes the dribble.
     */
    static final class Dribble implements AutoCloseable {
        private final CountDownLatch closed = new CountDownLatch(1);
        private final AtomicBoolean lastByteSent = new AtomicBoolean();
        private final CompletableFuture<Void> done;

        Dribble(SocketPeer peer, byte[] bytes) {
            done = CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; i < bytes.length; i++) {
                        peer.write(new byte[] {bytes[i]});
                        if (i == bytes.length - 1) {
                            lastByteSent.set(true);
                        } else if (closed.await(1, TimeUnit.SECONDS)) {
                            return;
                        }
                    }
                } catch (IOException cut) {
                    // The server cut the connection: what the tests want.
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }

        /** Whether the whole of the bytes went out: the server let the peer take longer than its deadline. */
        boolean lastByteSent() {
            return lastByteSent.get();
        }

        @Override
        public void close() throws Exception {
            closed.countDown();
            done.get(10, TimeUnit.SECONDS);
        }
    }

    // ---- faults of the peer while a detach we started is under way

    @Test
    void aResetRightAfterTheMessageThatDetachesEndsTheSessionOnce() throws Exception {
        detachOnGo(Detach.NO_DEADLINE);
        SocketPeer peer = openPeer("/probe");
        peer.writeHex(text("go"));
        peer.reset();
        // The reset may discard "go" before the container reads it; if the endpoint got it, its detach failed or
        // was refused, as documented.
        CloseReason closed = Probe.awaitClose();
        if (outcome.isDone()) {
            assertThat(failure()).isInstanceOfAny(SocketException.class, IllegalStateException.class);
        }
        assertThat(closed.getCloseCode()).isIn(CloseCodes.CLOSED_ABNORMALLY, CloseCodes.NORMAL_CLOSURE);
        assertThat(Probe.closes).as("@OnClose once").isEmpty();
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void anEndOfStreamRightAfterTheMessageThatDetachesFailsTheDetach() throws Exception {
        detachOnGo(Detach.NO_DEADLINE);
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            peer.shutdownOutput();
            assertThat(failure()).isInstanceOfAny(SocketException.class, IllegalStateException.class);
            peer.readUntilClosed();
        }
        assertThat(Probe.awaitClose()).isNotNull();
        assertThat(Probe.closes).as("@OnClose once").isEmpty();
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void aResetWhileOurCloseFrameIsStillQueuedFailsTheDetach() throws Exception {
        // 16 MiB ahead of the close frame, which the peer never reads: the close frame cannot have gone out.
        Probe.onText = session -> {
            session.getAsyncRemote().sendBinary(ByteBuffer.allocate(16 << 20));
            try {
                outcome.complete(Detach.detach(session, BYE, Detach.NO_DEADLINE, Probe.HAND_TO_TEST));
            } catch (RuntimeException refused) {
                outcome.complete(refused);
            }
        };
        SocketPeer peer = openPeer("/probe");
        peer.writeHex(text("go"));
        assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(CompletableFuture.class);
        awaitOurOnClose();
        peer.reset();
        assertThat(failure()).isInstanceOf(SocketException.class);
        assertClosedOnceWithoutHandOver(CloseCodes.NORMAL_CLOSURE);
    }

    @ParameterizedTest(name = "{0} bytes of the close frame")
    @ValueSource(ints = {1, 2, 3, 5, 7})
    void aResetInTheMiddleOfThePeersCloseFrameFailsWithSocketException(int sent) throws Exception {
        detachOnGo(Detach.NO_DEADLINE);
        SocketPeer peer = openPeer("/probe");
        peer.writeHex(text("go"));
        awaitOurCloseFrame(peer);
        peer.write(java.util.Arrays.copyOf(peer.bytes(CLOSE_1000), sent));
        peer.reset();
        assertThat(failure()).isInstanceOf(SocketException.class);
        assertClosedOnceWithoutHandOver(CloseCodes.NORMAL_CLOSURE);
    }

    @ParameterizedTest(name = "{0} bytes of the close frame")
    @ValueSource(ints = {1, 2, 3, 5, 7})
    void anEndOfStreamInTheMiddleOfThePeersCloseFrameFailsWithSocketException(int sent) throws Exception {
        detachOnGo(Detach.NO_DEADLINE);
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            awaitOurCloseFrame(peer);
            peer.write(java.util.Arrays.copyOf(peer.bytes(CLOSE_1000), sent));
            peer.shutdownOutput();
            assertThat(failure()).isInstanceOf(SocketException.class);
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertClosedOnceWithoutHandOver(CloseCodes.NORMAL_CLOSURE);
    }

    @ParameterizedTest(name = "{0} bytes of the close frame")
    @ValueSource(ints = {1, 3, 7})
    void silenceInTheMiddleOfThePeersCloseFrameTimesOut(int sent) throws Exception {
        detachOnGo(BRIEF);
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            awaitOurCloseFrame(peer);
            peer.write(java.util.Arrays.copyOf(peer.bytes(CLOSE_1000), sent));
            assertThat(failure()).isInstanceOf(TimeoutException.class);
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertClosedOnceWithoutHandOver(CloseCodes.NORMAL_CLOSURE);
    }

    @Test
    void aResetRightBehindThePeersCloseFrameEitherHandsOverOrFails() throws Exception {
        for (int round = 0; round < 20; round++) {
            Probe.reset();
            CompletableFuture<Object> result = new CompletableFuture<>();
            Probe.onText = session -> result.complete(Detach.detach(session, BYE, Detach.NO_DEADLINE,
                    Probe.HAND_TO_TEST));
            SocketPeer peer = openPeer("/probe");
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            CompletableFuture<?> future = (CompletableFuture<?>) result.get(10, TimeUnit.SECONDS);
            assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
            peer.writeHex(CLOSE_1000 + HELLO);
            peer.reset();
            try {
                DetachedConnection connection = (DetachedConnection) future.get(10, TimeUnit.SECONDS);
                // Handed over before the reset was seen: the new owner sees it, and closes.
                assertThat(Probe.awaitHanded()).isSameAs(connection);
                connection.close();
            } catch (ExecutionException failed) {
                assertThat(failed.getCause()).as("round %d", round).isInstanceOf(SocketException.class);
                assertThat(Probe.handed).isNotDone();
            }
            assertThat(Probe.closes).as("@OnClose once").isEmpty();
        }
    }

    @Test
    void aCloseFrameDribbledSlowerThanTheTimeoutIsCutOffAtTheDeadline() throws Exception {
        detachOnGo(DRIBBLE_DEADLINE);
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            awaitOurCloseFrame(peer);
            // Each byte well within the timeout of the one before, the whole frame far beyond it: the deadline is
            // the frame's, not a gap's.
            try (Dribble dribble = new Dribble(peer, peer.bytes(CLOSE_1000))) {
                assertThat(failure()).isInstanceOf(TimeoutException.class);
                assertThat(dribble.lastByteSent()).as("the detach failed before the frame was complete").isFalse();
                assertThat(peer.readUntilClosed()).isEmpty();
            }
        }
        assertClosedOnceWithoutHandOver(CloseCodes.NORMAL_CLOSURE);
    }

    @Test
    void aPeerThatFloodsDataFramesAndNeverClosesIsCutOffAtTheDeadlineWithoutBeingBuffered() throws Exception {
        long heapBefore = HeapMeter.usedAfterGc();
        detachOnGo(Duration.ofMillis(1500));
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            awaitOurCloseFrame(peer);
            byte[] frame = peer.bytes("[827e ffff]" + "00".repeat(0xffff));
            AtomicLong flooded = new AtomicLong();
            CompletableFuture<Void> flood = CompletableFuture.runAsync(() -> {
                try {
                    while (true) {
                        peer.write(frame);
                        flooded.addAndGet(frame.length);
                    }
                } catch (IOException closed) {
                    // The server cut the connection.
                }
            });
            // Frames the server keeps would show in its heap; discarded ones are garbage.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
            while (flooded.get() < FLOOD_BYTES && System.nanoTime() < deadline) {
                java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            long heapWhileFlooded = HeapMeter.usedAfterGc();
            long floodedThen = flooded.get();
            assertThat(failure()).isInstanceOf(TimeoutException.class);
            flood.get(10, TimeUnit.SECONDS);
            assertThat(floodedThen).as("flooded within a second").isGreaterThanOrEqualTo(FLOOD_BYTES);
            assertThat(heapWhileFlooded - heapBefore).as("heap grown while %d bytes were flooded", floodedThen)
                    .isLessThan(FLOOD_BYTES / 2);
        }
        assertClosedOnceWithoutHandOver(CloseCodes.NORMAL_CLOSURE);
    }

    /** What the flood must have sent, in frames of 64 KiB, while the detach waits. */
    static final long FLOOD_BYTES = 8L << 20;

    @Test
    void aRawStreamRightBehindTheCloseFrameWaitsForASlowHandlerAndArrivesWhole() throws Exception {
        long heapBefore = HeapMeter.usedAfterGc();
        detachOnGo(Detach.DEFAULT_TIMEOUT);
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            awaitOurCloseFrame(peer);
            AtomicLong streamed = new AtomicLong();
            CompletableFuture<Void> stream = CompletableFuture.runAsync(() -> {
                try {
                    // The close frame and the start of the stream in one write: read together by the server.
                    byte[] close = peer.bytes(CLOSE_1000);
                    byte[] first = streamChunk(0);
                    byte[] both = java.util.Arrays.copyOf(close, close.length + first.length);
                    System.arraycopy(first, 0, both, close.length, first.length);
                    peer.write(both);
                    streamed.set(first.length);
                    while (streamed.get() < STREAM_BYTES) {
                        peer.write(streamChunk(streamed.get()));
                        streamed.addAndGet(STREAM_CHUNK);
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            DetachedConnection connection = Probe.awaitHanded();
            // The handler reads nothing yet: the stream must stop at the socket, not pile up in the server.
            long stalledAt = awaitNoProgress(streamed);
            long heapWhileStalled = HeapMeter.usedAfterGc();
            assertThat(stream).as("the stream stopped by back-pressure").isNotDone();
            assertThat(stalledAt).isLessThan(STREAM_BYTES);
            assertThat(heapWhileStalled - heapBefore).as("heap grown with %d bytes sent", stalledAt)
                    .isLessThan(STREAM_BYTES / 4);
            ByteBuffer buffer = ByteBuffer.allocate(STREAM_CHUNK);
            long received = 0;
            while (received < STREAM_BYTES) {
                buffer.clear();
                int n = connection.read(buffer).get(10, TimeUnit.SECONDS);
                assertThat(n).as("end of stream after %d bytes", received).isPositive();
                for (int i = 0; i < n; i++) {
                    if (buffer.get(i) != streamByte(received + i)) {
                        fail("byte %d of the stream differs", received + i);
                    }
                }
                received += n;
            }
            stream.get(10, TimeUnit.SECONDS);
            connection.close();
        }
        assertThat(Probe.closes).as("@OnClose once, seen with our close frame").isEmpty();
    }

    /**
     * The raw stream of the slow-handler case: four times what loopback's socket buffers took before stopping the
     * writer here (4 MiB), so that only back-pressure can stop it.
     */
    static final long STREAM_BYTES = 16L << 20;
    static final int STREAM_CHUNK = 1 << 16;

    static byte streamByte(long offset) {
        // A cycle of 251 bytes, prime to every chunk size: a chunk lost, repeated or reordered shows.
        return (byte) (offset % 251);
    }

    static byte[] streamChunk(long offset) {
        byte[] chunk = new byte[STREAM_CHUNK];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = streamByte(offset + i);
        }
        return chunk;
    }

    /** How far {@code progress} got once it has not moved for 300 ms; within 10 s. */
    static long awaitNoProgress(AtomicLong progress) {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        long seen = -1;
        long since = System.nanoTime();
        while (System.nanoTime() < giveUp) {
            long now = progress.get();
            if (now != seen) {
                seen = now;
                since = System.nanoTime();
            } else if (System.nanoTime() - since > TimeUnit.MILLISECONDS.toNanos(300)) {
                return seen;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        return seen;
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "[c100]",                           // RSV1 set, no extension negotiated
            "[a100]",                           // RSV2 set
            "[9100]",                           // RSV3 set
            "[8802 03ee]",                      // status 1006 on the wire
            "[8802 03f7]",                      // status 1015 on the wire
            "[8802 1388]",                      // status 5000
            "[8b00]",                           // reserved control opcode 0xB
            "[887e 007e]",                      // close frame longer than 125 bytes
            "[0800]",                           // fragmented close frame
    })
    void aMalformedFrameWhileWaitingFailsWithProtocolException(String frame) throws Exception {
        detachOnGo(Detach.NO_DEADLINE);
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            awaitOurCloseFrame(peer);
            peer.writeHex(frame + HELLO);
            assertThat(failure()).isInstanceOf(ProtocolException.class);
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertClosedOnceWithoutHandOver(CloseCodes.NORMAL_CLOSURE);
    }

    // ---- faults of the peer in a detach it started

    @ParameterizedTest(name = "{0} bytes of the close frame")
    @ValueSource(ints = {1, 2, 5})
    void aResetInTheMiddleOfACloseFrameThatWouldDetachClosesAbnormally(int sent) throws Exception {
        SocketPeer peer = openPeer("/declared");
        peer.write(java.util.Arrays.copyOf(peer.bytes(CLOSE_1000), sent));
        peer.reset();
        assertClosedOnceWithoutHandOver(CloseCodes.CLOSED_ABNORMALLY);
    }

    @ParameterizedTest(name = "{0} bytes of the close frame")
    @ValueSource(ints = {1, 2, 5})
    void anEndOfStreamInTheMiddleOfACloseFrameThatWouldDetachClosesAbnormally(int sent) throws Exception {
        byte[] answer;
        try (SocketPeer peer = openPeer("/declared")) {
            peer.write(java.util.Arrays.copyOf(peer.bytes(CLOSE_1000), sent));
            peer.shutdownOutput();
            answer = peer.readUntilClosed();
        }
        // Tomcat parses the first byte of a frame only with the second: given one byte and the end of the stream
        // in the same read, it fails the connection itself, as stock Tomcat does, with a close 1002 to the peer.
        if (answer.length > 0) {
            assertThat(Wire.hexOf(answer)).isEqualTo("8802" + "03ea");
        }
        assertClosedOnceWithoutHandOver(CloseCodes.CLOSED_ABNORMALLY);
    }

    @Test
    void aCloseFrameThatWouldDetachDribbledSlowerThanTheTimeoutIsCutOff() throws Exception {
        Probe.onOpen = session -> Detach.detachOnPeerClose(session, DRIBBLE_DEADLINE, Probe.HAND_TO_TEST);
        try (SocketPeer peer = openPeer("/probe")) {
            try (Dribble dribble = new Dribble(peer, peer.bytes(CLOSE_1000))) {
                assertThat(peer.readUntilClosed()).isEmpty();
                assertThat(dribble.lastByteSent()).as("cut off before the frame was complete").isFalse();
            }
        }
        assertClosedOnceWithoutHandOver(CloseCodes.CLOSED_ABNORMALLY);
    }

    // ---- races

    @Test
    void twoThreadsDetachingAtOnceGetOneDetachAndOneRefusal() throws Exception {
        for (int round = 0; round < 20; round++) {
            Probe.reset();
            CompletableFuture<List<Object>> results = new CompletableFuture<>();
            Probe.onText = session -> results.complete(detachFromTwoThreads(session));
            try (SocketPeer peer = openPeer("/probe")) {
                peer.writeHex(text("go"));
                List<Object> both = results.get(10, TimeUnit.SECONDS);
                assertThat(both).as("round %d", round).filteredOn(CompletableFuture.class::isInstance).hasSize(1);
                assertThat(both).as("round %d", round).filteredOn(IllegalStateException.class::isInstance).hasSize(1);
                assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
                peer.writeHex(CLOSE_1000 + HELLO);
                DetachedConnection connection = Probe.awaitHanded();
                assertThat(readText(connection, 5)).isEqualTo("hello");
                connection.close();
                assertThat(peer.readUntilClosed()).as("one close frame only").isEmpty();
            }
            assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
            assertThat(Probe.closes).as("@OnClose once").isEmpty();
        }
    }

    private static List<Object> detachFromTwoThreads(Session session) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<CompletableFuture<Object>> attempts = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            attempts.add(CompletableFuture.supplyAsync(() -> {
                try {
                    start.await();
                    return Detach.detach(session, BYE, Probe.HAND_TO_TEST);
                } catch (IllegalStateException refused) {
                    return refused;
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        start.countDown();
        List<Object> results = new ArrayList<>();
        for (CompletableFuture<Object> attempt : attempts) {
            results.add(attempt.get(10, TimeUnit.SECONDS));
        }
        return results;
    }

    @Test
    void messagesSentFromAnotherThreadDuringTheDetachArriveWholeBeforeTheCloseFrameOrFail() throws Exception {
        CompletableFuture<Throwable> sender = new CompletableFuture<>();
        AtomicInteger sent = new AtomicInteger();
        Probe.onText = session -> {
            CountDownLatch sending = new CountDownLatch(10);
            CompletableFuture.runAsync(() -> {
                try {
                    for (int i = 0; ; i++) {
                        session.getBasicRemote().sendText("message " + i);
                        sent.incrementAndGet();
                        sending.countDown();
                    }
                } catch (Exception stopped) {
                    // IOException or IllegalStateException, as the container has it; recorded, whatever it is.
                    sender.complete(stopped);
                }
            });
            assertThat(sending.await(10, TimeUnit.SECONDS)).isTrue();
            outcome.complete(Detach.detach(session, BYE, Probe.HAND_TO_TEST));
        };
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            // Whole text frames, in order, then our close frame, then nothing of the sender's.
            String frame;
            int messages = 0;
            while ((frame = peer.readFrameHex()).startsWith("81")) {
                assertThat(new String(Wire.hex(frame.substring(4)), java.nio.charset.StandardCharsets.UTF_8))
                        .isEqualTo("message " + messages);
                messages++;
            }
            assertThat(messages).isGreaterThanOrEqualTo(10);
            assertThat(frame).as("after %d messages", messages).isEqualTo(SERVER_CLOSE_BYE);
            peer.writeHex(CLOSE_1000 + HELLO);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            assertThat(sender.get(10, TimeUnit.SECONDS)).as("the sender was stopped").isNotNull();
            assertThat(messages).as("every message whose send returned").isGreaterThanOrEqualTo(sent.get());
            write(connection, "raw");
            assertThat(peer.readHex(3)).as("nothing of the sender's after the close frame").isEqualTo(ascii("raw"));
            connection.close();
        }
        CloseReason closed = Probe.awaitClose();
        assertThat(closed.getCloseCode()).as("%s", closed).isEqualTo(CloseCodes.NORMAL_CLOSURE);
        assertThat(Probe.closes).as("@OnClose once").isEmpty();
    }

    /**
     * Messages sent asynchronously while a large one waits for a peer that does not read: a container that
     * queues them (Jetty, Tyrus) writes them, and its own close frame, together once the socket drains. Each
     * message it took arrives before our close frame; a container that takes one async send at a time (Tomcat)
     * refuses the rest, as it does without a detach.
     */
    @Test
    void asyncMessagesQueuedBehindAFullSocketArriveBeforeTheCloseFrame() throws Exception {
        int large = 16 << 20;
        List<Future<Void>> sends = new ArrayList<>();
        CompletableFuture<Integer> queued = new CompletableFuture<>();
        Probe.onText = session -> {
            RemoteEndpoint.Async remote = session.getAsyncRemote();
            sends.add(remote.sendBinary(ByteBuffer.wrap(pattern(large))));
            try {
                for (int i = 0; i < 5; i++) {
                    sends.add(remote.sendText("queued " + i));
                }
            } catch (IllegalStateException oneAtATime) {
                // Tomcat's: a message is still being sent.
            }
            queued.complete(sends.size() - 1);
            outcome.complete(Detach.detach(session, BYE, Probe.HAND_TO_TEST));
        };
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            int messages = queued.get(10, TimeUnit.SECONDS);
            assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(CompletableFuture.class);
            // Only now does the peer read, and the socket drain.
            assertThat(readBinaryMessage(peer)).isEqualTo(pattern(large));
            for (int i = 0; i < messages; i++) {
                assertThat(peer.readFrameHex()).as("message %d of %d", i, messages)
                        .isEqualTo("8108" + ascii("queued " + i));
            }
            assertThat(peer.readFrameHex()).as("after %d messages", messages).isEqualTo(SERVER_CLOSE_BYE);
            for (Future<Void> send : sends) {
                assertThat(send.get(10, TimeUnit.SECONDS)).as("sent").isNull();
            }
            peer.writeHex(CLOSE_1000 + HELLO);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            connection.close();
        }
        awaitOurOnClose();
        assertThat(Probe.closes).as("@OnClose once").isEmpty();
    }

    /**
     * Messages sent with batching allowed just before the detach: a container that batches them holds them in
     * a buffer, their sends already complete, and writes them as it closes (Jetty in one write with its own
     * close frame, Tomcat in a flush before it). They arrive before our close frame.
     */
    @Test
    void messagesBatchedBeforeTheDetachArriveBeforeTheCloseFrame() throws Exception {
        Probe.onText = session -> {
            session.getAsyncRemote().setBatchingAllowed(true);
            for (int i = 0; i < 5; i++) {
                session.getAsyncRemote().sendText("batched " + i);
            }
            outcome.complete(Detach.detach(session, BYE, Probe.HAND_TO_TEST));
        };
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            for (int i = 0; i < 5; i++) {
                assertThat(peer.readFrameHex()).as("message %d", i).isEqualTo("8109" + ascii("batched " + i));
            }
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.writeHex(CLOSE_1000 + HELLO);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            connection.close();
        }
        awaitOurOnClose();
        assertThat(Probe.closes).as("@OnClose once").isEmpty();
    }

    /** A binary message from the server, in as many frames as the container cut it into. */
    static byte[] readBinaryMessage(SocketPeer peer) throws IOException {
        ByteArrayOutputStream message = new ByteArrayOutputStream();
        int expectedOpcode = 0x2;
        while (true) {
            byte[] header = peer.readExactly(2);
            assertThat(header[0] & 0x0f).as("opcode").isEqualTo(expectedOpcode);
            assertThat(header[1] & 0x80).as("a server's frame is unmasked").isZero();
            long length = header[1] & 0x7f;
            if (length >= 126) {
                byte[] extended = peer.readExactly(length == 126 ? 2 : 8);
                length = 0;
                for (byte b : extended) {
                    length = length << 8 | (b & 0xff);
                }
            }
            message.write(peer.readExactly(Math.toIntExact(length)));
            if ((header[0] & 0x80) != 0) {
                return message.toByteArray();
            }
            expectedOpcode = 0x0;
        }
    }

    /** {@code length} bytes that differ from their neighbours, so that a lost or repeated run shows. */
    static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + (i >>> 8));
        }
        return bytes;
    }

    @ParameterizedTest(name = "one write: {0}")
    @ValueSource(booleans = {true, false})
    void closeFramesCrossingWhenBothSidesDetachBothSucceed(boolean oneWrite) throws Exception {
        for (int round = 0; round < 20; round++) {
            Probe.reset();
            Probe.onText = session -> Detach.detach(session, BYE, Probe.HAND_TO_TEST);
            try (SocketPeer peer = openPeer("/probe")) {
                // The peer detaches too: it sends its close frame and its first raw bytes without waiting for ours.
                if (oneWrite) {
                    peer.writeHex(text("go") + CLOSE_1000 + HELLO);
                } else {
                    peer.writeHex(text("go"));
                    peer.writeHex(CLOSE_1000 + HELLO);
                }
                DetachedConnection connection = Probe.awaitHanded();
                assertThat(readText(connection, 5)).as("round %d", round).isEqualTo("hello");
                write(connection, "world");
                // Ours crossed theirs: it is their reply, and the raw bytes follow it.
                assertThat(peer.readFrameHex()).as("round %d", round).isEqualTo(SERVER_CLOSE_BYE);
                assertThat(peer.readHex(5)).isEqualTo(ascii("world"));
                connection.close();
                assertThat(peer.readUntilClosed()).isEmpty();
            }
            assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
            assertThat(Probe.closes).as("@OnClose once").isEmpty();
        }
    }

    @Test
    void aHandlerThatThrowsHasTheConnectionClosed() throws Exception {
        Probe.onText = session -> outcome.complete(Detach.detach(session, BYE, connection -> {
            Probe.handed.complete(connection);
            throw new IllegalStateException("the handler fails");
        }));
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            awaitOurCloseFrame(peer);
            peer.writeHex(CLOSE_1000 + HELLO);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(peer.readUntilClosed()).as("closed by the provider").isEmpty();
            assertThat(connection.isOpen()).isFalse();
            assertThat(((CompletableFuture<?>) outcome.get(10, TimeUnit.SECONDS)).get(10, TimeUnit.SECONDS))
                    .isSameAs(connection);
        }
        assertThat(Probe.closes).as("@OnClose once, seen with our close frame").isEmpty();
    }

    // ---- the container stopping

    @Test
    void stoppingTheServerWhileADetachWaitsFailsItAndClosesTheConnection() throws Exception {
        detachOnGo(Detach.NO_DEADLINE);
        try (SocketPeer peer = openPeer("/probe")) {
            peer.writeHex(text("go"));
            awaitOurCloseFrame(peer);
            server.close();
            server = null;
            assertThat(failure()).isInstanceOf(SocketException.class);
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertClosedOnceWithoutHandOver(CloseCodes.NORMAL_CLOSURE);
    }

    @Test
    void stoppingTheServerInTheMiddleOfACloseFrameThatWouldDetachClosesTheConnection() throws Exception {
        try (SocketPeer peer = peer("/declared")) {
            // The first byte of a close frame right behind a message the endpoint echoes: read in the same read.
            peer.writeHex(text("echo:x") + "88");
            assertThat(peer.readFrameHex()).isEqualTo("8106" + ascii("echo:x"));
            server.close();
            server = null;
            // If the byte came too late for the session, the container closed it as a stopping container does.
            assertNothingOrOneCloseFrame(peer.readUntilClosed());
        }
        assertThat(Probe.awaitClose()).isNotNull();
        assertThat(Probe.closes).as("@OnClose once").isEmpty();
        assertThat(Probe.handed).isNotDone();
    }
}
