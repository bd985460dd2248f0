package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.wsdetach.Detach;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachOnPeerClose;
import org.wsdetach.DetachedConnection;
import org.wsdetach.spi.CloseFrames;
import org.wsdetach.spi.FrameScanner;
import org.wsdetach.spi.WebSocketProtocol;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.ProtocolException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * One WebSocket connection that can be detached: the container-neutral half of a detach, which an adapter
 * puts between its container and the network, one per upgraded connection, with a
 * {@link ContainerConnection} for the container's half.
 *
 * <p><b>Reading.</b> The adapter passes every byte it reads to {@link #onInbound}. While no detach is under
 * way they go on to the container ({@link ContainerConnection#deliver}) one frame at a time, the frame
 * boundaries found from the headers alone, whatever their mask bits say; a close frame from the peer is
 * held back if a handler is armed for it. Once a detach is under way the bytes are read here: frames before
 * the peer's close frame are checked and discarded (pings get no pong: under a detach every byte after our
 * close frame belongs to the next protocol, so a pong there would corrupt it, although RFC 6455 section
 * 5.5.2 otherwise asks for one until a close frame has been received), and what follows the peer's close
 * frame is kept for the detached connection.
 *
 * <p><b>Writing.</b> The adapter passes every frame the container writes through {@link #onContainerWrite},
 * which writes it as long as the container owns the connection, and after our close frame swallows the
 * container's close frames and refuses everything else: exactly one close frame goes out each way, whoever
 * starts closing.
 *
 * <p><b>Deadlines.</b> Every state between the start of a close frame and the hand-over is bounded: a
 * local detach by its timeout (with {@link Detach#NO_DEADLINE} only if the caller asked for none), a
 * peer-initiated one by the timeout given with its handler, from the first byte of the peer's close frame.
 *
 * <p>The states and their transitions are {@link DetachState}'s. Thread-safe: user calls come from any
 * thread, {@link #onInbound} from one reading thread at a time.
 */
public final class DetachableConnection {

    private static final System.Logger LOG = System.getLogger(DetachableConnection.class.getName());
    /** RFC 6455 section 5.3 wants a client's masking keys unpredictable. */
    private static final SecureRandom MASKING_KEYS = new SecureRandom();
    private static final Duration LONGEST_DEADLINE = Duration.ofNanos(Long.MAX_VALUE);

    private final ContainerConnection container;
    /** Which end this is: a client masks its frames and reads unmasked ones. */
    private final boolean client;
    private final DetachThreads threads;
    /** Used by the reading thread only. */
    private final FrameScanner scanner;

    /**
     * Package-private for the tests alone: one that holds it can make a failure land between the reading
     * thread's look at the state and that thread's next transition, which otherwise only timing decides.
     */
    final Object lock = new Object();
    // Guarded by lock, except for state.state(): see step().
    private final DetachState state = new DetachState();
    private DetachHandler handler;
    private Duration peerCloseTimeout;
    private CompletableFuture<DetachedConnection> result;
    private CloseReason peerReason;
    /** What followed the peer's close frame, in write mode; null until that frame has been read. */
    private ByteBuffer leftover;
    private ScheduledFuture<?> deadline;
    /** A zero-timeout detach asked for while reading: the rest of the bytes at hand may hold the close. */
    private boolean zeroDeadline;
    /** The flight recorder event of the detach under way; null while none is, or no recording asks for it. */
    private DetachEvent event;

    private volatile Thread reader;
    /** Whether the current read gave the container bytes; used by the reading thread only. */
    private boolean delivered;

    private DetachableConnection(ContainerConnection container, boolean client, DetachThreads threads) {
        this.container = Objects.requireNonNull(container, "container");
        this.client = client;
        this.threads = Objects.requireNonNull(threads, "threads");
        this.scanner = new FrameScanner(!client);
        // The container judges the frames it gets: some accept what RFC 6455 forbids, and a frame they
        // accept must not make this side lose track of the stream.
        scanner.checkMasking(false);
    }

    /** The connection of a server's session: it reads masked frames and writes unmasked ones. */
    public static DetachableConnection forServer(ContainerConnection container, DetachThreads threads) {
        return new DetachableConnection(container, false, threads);
    }

    /** The connection of a client's session: it reads unmasked frames and writes masked ones. */
    public static DetachableConnection forClient(ContainerConnection container, DetachThreads threads) {
        return new DetachableConnection(container, true, threads);
    }

    // ---- the user's requests, through the adapter's DetachProvider ----

    /**
     * Implements {@link Detach#detach(jakarta.websocket.Session, CloseReason, Duration, DetachHandler)} for
     * this connection's session; the arguments have been checked.
     *
     * @throws IllegalStateException if the session is closing, detaching or detached
     */
    public CompletableFuture<DetachedConnection> detach(CloseReason reason, Duration timeout, DetachHandler newHandler) {
        CompletableFuture<DetachedConnection> future = new CompletableFuture<>();
        ByteBuffer closeFrame = closeFrame(reason);
        boolean fromReader = reader == Thread.currentThread();
        synchronized (lock) {
            state.detach();
            event = DetachRecording.begin(true);
            handler = newHandler;
            result = future;
            zeroDeadline = timeout.isZero() && fromReader;
        }
        // Outside the lock, yet behind every frame the container wrote: from the transition above on, the
        // container's writes are refused, and those before it were written under the lock.
        write(closeFrame);
        future.whenComplete((connection, error) -> {
            if (future.isCancelled()) {
                fail(new CancellationException("detach cancelled"));
            }
        });
        container.closeSession(reason);
        synchronized (lock) {
            // After our close frame has gone to the container: scheduling the deadline wakes the timer thread,
            // which on a busy machine costs the close frame tens of microseconds. Only if no failure or
            // hand-over has ended the detach meanwhile, since those cancel the deadline they find. A zero
            // timeout is for the peer's close frame only: the hand-over after it gets the default.
            if (state.detaching()) {
                armDeadlineLocked(timeout.isZero() ? Detach.DEFAULT_TIMEOUT : timeout);
            }
        }
        if (timeout.isZero() && !fromReader) {
            fail(new TimeoutException("the peer's close frame had not arrived (zero timeout)"));
        }
        return future;
    }

    /**
     * Implements {@link Detach#detachOnPeerClose(jakarta.websocket.Session, Duration, DetachHandler)} for this
     * connection's session: a later call replaces the handler and timeout.
     *
     * @throws IllegalStateException if the session is closing, detaching or detached
     */
    public void detachOnPeerClose(Duration timeout, DetachHandler newHandler) {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(newHandler, "newHandler");
        synchronized (lock) {
            state.arm();
            handler = newHandler;
            peerCloseTimeout = timeout;
        }
    }

    /**
     * Arms the handler an endpoint class declares with {@link DetachOnPeerClose}, with its timeout: a new
     * instance of the handler class for this connection. The adapter has had the declaration
     * {@linkplain DeclaredHandlers#check checked} when it deployed the endpoint.
     *
     * @throws IllegalStateException if the handler's constructor throws (with what it threw as the cause), or
     *                               the class cannot be instantiated
     */
    public void detachOnPeerClose(DetachOnPeerClose declared) {
        detachOnPeerClose(Duration.ofMillis(declared.timeoutMillis()), DeclaredHandlers.newHandler(declared));
    }

    /**
     * The refusal of a detach, or of a handler's registration, for a session that is no longer open: once the
     * peer's close frame has been processed it is too late for either, and the message says when to register.
     *
     * @param sessionId the session's id
     * @return the exception for the adapter's {@code DetachProvider} to throw
     */
    public static IllegalStateException sessionNotOpen(String sessionId) {
        return new IllegalStateException("session " + sessionId + " is not open: it has closed, or its close has "
                + "begun; to detach when the peer closes, register Detach.detachOnPeerClose (or @DetachOnPeerClose) "
                + "before the peer's close frame arrives: in @OnOpen, or before sending the message that makes the "
                + "peer detach");
    }

    // ---- reading, on the adapter's reading thread ----

    /**
     * Takes the next bytes read from the network, between position and limit, and consumes them all:
     * they go to the container, to the close-wait or to the detached connection, as the state says. The
     * adapter must not call it again for the same connection before it returns, and must copy nothing.
     */
    public void onInbound(ByteBuffer data) {
        inbound(data, false);
    }

    /**
     * As {@link #onInbound}, for a container that pulls its bytes one read at a time (Jetty): it stops as soon
     * as it has passed the container a frame, or part of one, leaving the bytes after it in {@code data} for
     * the next call, so that a detach asked for while that frame is handled finds the frames behind it
     * unparsed.
     *
     * @return whether the container was given bytes
     */
    public boolean onInboundFrame(ByteBuffer data) {
        return inbound(data, true);
    }

    private boolean inbound(ByteBuffer data, boolean oneFrame) {
        Thread outer = reader;
        reader = Thread.currentThread();
        delivered = false;
        try {
            int end = data.limit();
            int position = data.position();
            while (position < end && !(oneFrame && delivered)) {
                position = step(data, position, end);
            }
            data.position(position);
        } finally {
            reader = outer;
        }
        if (outer == null) {
            checkZeroDeadline();
        }
        return delivered;
    }

    /**
     * For a container that reads the network itself (Tomcat): runs one of its read events, in which this
     * thread is the reading thread. A zero-timeout detach asked for meanwhile succeeds only if the peer's
     * close frame is among the bytes read by the end of it.
     */
    public <T> T reading(Supplier<T> readEvent) {
        Thread outer = reader;
        reader = Thread.currentThread();
        try {
            return readEvent.get();
        } finally {
            reader = outer;
            if (outer == null) {
                checkZeroDeadline();
            }
        }
    }

    /**
     * As {@link #reading}, for a container whose read events the adapter sees only begin and end (Jetty): from
     * now on this thread is the reading thread, until {@link #readEventEnds()}.
     */
    public void readEventBegins() {
        reader = Thread.currentThread();
    }

    /** The read event {@link #readEventBegins()} began is over; see {@link #reading}. */
    public void readEventEnds() {
        reader = null;
        checkZeroDeadline();
    }

    private void checkZeroDeadline() {
        boolean zeroDeadlineMissed;
        synchronized (lock) {
            zeroDeadlineMissed = zeroDeadline && state.state() == DetachState.State.AWAITING_PEER_CLOSE;
            zeroDeadline = false;
        }
        if (zeroDeadlineMissed) {
            fail(new TimeoutException("the peer's close frame had not arrived (zero timeout)"));
        }
    }

    /**
     * For a container that finds the frame boundaries itself and reads the network on its own (Tomcat): its
     * parser is about to read a frame that begins with {@code firstByte}. Called on the reading thread, at
     * every frame start, instead of {@link #onInbound} while the container reads.
     *
     * @return true if the container reads this frame; false if this connection takes the stream from this
     *         frame on: the adapter then passes the frame, from {@code firstByte}, and every byte after it to
     *         {@link #onInbound}, and none to the container
     */
    public boolean onFrameStart(byte firstByte) {
        switch (state.state()) {
            case OPEN, ARMED:
                if (!WebSocketProtocol.isCloseFrameStart(firstByte)) {
                    return true;
                }
                DetachState.PeerCloseStart start;
                synchronized (lock) {
                    start = state.peerCloseBegins();
                    if (start == DetachState.PeerCloseStart.DETACH_BEGINS) {
                        peerDetachBeginsLocked();
                    }
                }
                return start == DetachState.PeerCloseStart.TO_CONTAINER;
            case CLOSING:
                return true;
            default:
                return false;
        }
    }

    /**
     * For a container that reads the network itself: whether a detach has started, so that the stream is this
     * connection's from the next frame start on (the container's parser may still be inside a frame).
     */
    public boolean detachStarted() {
        return switch (state.state()) {
            case OPEN, ARMED, CLOSING -> false;
            default -> true;
        };
    }

    private int step(ByteBuffer data, int from, int end) {
        // Without the lock: a detach that starts right after this look finds the frame being delivered
        // already the container's, as if it had started a moment later; every transition is made under it.
        switch (state.state()) {
            case OPEN, ARMED:
                return towardsContainer(data, from, end);
            case CLOSING:
                deliver(data, from, end);
                return end;
            case AWAITING_PEER_CLOSE, PEER_CLOSE_ARRIVING:
                return awaitPeerClose(data, from, end);
            case HANDING_OVER:
                synchronized (lock) {
                    keepLocked(data, from, end);
                }
                return end;
            default:
                // DETACHED or FAILED: whatever the container still reads is no one's.
                return end;
        }
    }

    private int towardsContainer(ByteBuffer data, int from, int end) {
        if (scanner.atFrameStart() && WebSocketProtocol.isCloseFrameStart(data.get(from))) {
            DetachState.PeerCloseStart start;
            synchronized (lock) {
                start = state.peerCloseBegins();
                if (start == DetachState.PeerCloseStart.DETACH_BEGINS) {
                    peerDetachBeginsLocked();
                }
            }
            if (start == DetachState.PeerCloseStart.TO_CONTAINER) {
                deliver(data, from, end);
                return end;
            }
            // The close-wait reads the frame, from its first byte.
            return from;
        }
        int frameEnd = scanner.scan(data, from, end);
        if (scanner.error() != null) {
            // The container fails the connection on these very bytes, as RFC 6455 section 5.1 has it.
            synchronized (lock) {
                state.protocolBroken();
            }
            deliver(data, from, end);
            return end;
        }
        deliver(data, from, frameEnd);
        return frameEnd;
    }

    private void deliver(ByteBuffer data, int from, int to) {
        int limit = data.limit();
        data.limit(to).position(from);
        container.deliver(data);
        data.limit(limit);
        delivered = true;
    }

    private int awaitPeerClose(ByteBuffer data, int from, int end) {
        // From here on the frames are ours to judge, masking included (from the next header on).
        scanner.checkMasking(true);
        int next = scanner.scan(data, from, end);
        if (scanner.error() != null) {
            fail(new ProtocolException("while waiting for the peer's close frame: " + scanner.error()));
            return end;
        }
        if (scanner.frameComplete() && scanner.opcode() == WebSocketProtocol.OPCODE_CLOSE) {
            onPeerClose(scanner.closeReason(), data, next, end);
            return end;
        }
        return next;
    }

    private void onPeerClose(CloseReason reason, ByteBuffer data, int from, int end) {
        boolean replyDue;
        synchronized (lock) {
            if (!state.detaching()) {
                return;
            }
            replyDue = state.peerCloseComplete();
            peerReason = reason;
            keepLocked(data, from, end);
        }
        if (replyDue) {
            write(closeFrame(new CloseReason(reason.getCloseCode(), "")));
        }
        container.stopReading();
        if (replyDue) {
            container.closeSession(reason);
        }
    }

    private void keepLocked(ByteBuffer data, int from, int end) {
        int length = end - from;
        if (leftover == null || leftover.remaining() < length) {
            ByteBuffer grown = ByteBuffer.allocate((leftover == null ? 0 : leftover.position()) + length);
            if (leftover != null) {
                grown.put(leftover.flip());
            }
            leftover = grown;
        }
        leftover.put(leftover.position(), data, from, length);
        leftover.position(leftover.position() + length);
    }

    // ---- the adapter's reports ----

    /** The container reads no more: see {@link ContainerConnection#stopReading()}. */
    public void readsStopped() {
        met(DetachState.READS_STOPPED);
    }

    /** The container has closed the session: see {@link ContainerConnection#closeSession}. */
    public void sessionClosed() {
        met(DetachState.SESSION_CLOSED);
    }

    /**
     * The container writes a frame. If the connection is still the container's, {@code write} runs (on
     * this thread, ordered with our own close frame) and the frame is {@link ContainerWrite#WRITTEN};
     * otherwise it is not run, and the adapter reports the frame to the container as the result says.
     *
     * @param frame the frame, one whole frame between position and limit
     * @param write writes the frame to the transport
     */
    public ContainerWrite onContainerWrite(ByteBuffer frame, Runnable write) {
        boolean closeFrame = frame.hasRemaining() && WebSocketProtocol.isCloseFrameStart(frame.get(frame.position()));
        synchronized (lock) {
            ContainerWrite verdict = state.containerWrite(closeFrame);
            if (verdict == ContainerWrite.WRITTEN) {
                write.run();
            }
            return verdict;
        }
    }

    /**
     * For a container that queues and orders its own writes and writes nothing after a close frame (Tomcat):
     * it is about to queue a frame of its own. The container queues it only if the result is
     * {@link ContainerWrite#WRITTEN}; our close frames go through {@link ContainerConnection#write} into the
     * same queue, so the container's own ordering keeps them behind the frames queued before.
     *
     * @param closeFrame whether the frame is a close frame
     */
    public ContainerWrite onContainerQueues(boolean closeFrame) {
        synchronized (lock) {
            return state.containerWrite(closeFrame);
        }
    }

    /**
     * The container lets go of the connection (for example by closing its writer, which closes the
     * transport when no detach is under way).
     *
     * @return true if the adapter goes on as the container asks; false if a detach owns the transport
     */
    public boolean onContainerReleases() {
        synchronized (lock) {
            return state.containerReleases();
        }
    }

    /**
     * The transport has closed, or broken, under the container.
     *
     * @param description what happened, for the error message
     * @param cause       the transport's exception, or null
     */
    public void onTransportClosed(String description, Throwable cause) {
        boolean failNow;
        DetachState.State now;
        synchronized (lock) {
            now = state.state();
            failNow = state.transportClosed();
        }
        if (failNow) {
            String stage = now == DetachState.State.HANDING_OVER ? "during the hand-over" : "before the peer's close frame";
            SocketException error = new SocketException("connection closed (" + description + ") " + stage);
            error.initCause(cause);
            fail(error);
        }
    }

    // ---- writing, failing, handing over ----

    private ByteBuffer closeFrame(CloseReason reason) {
        return client ? CloseFrames.clientFrame(reason, MASKING_KEYS.nextInt()) : CloseFrames.serverFrame(reason);
    }

    /** Writes one of our close frames; the hand-over waits for it. */
    private void write(ByteBuffer frame) {
        container.write(frame, failure -> {
            if (failure == null) {
                met(DetachState.CLOSE_WRITTEN);
            } else {
                SocketException error = new SocketException("could not send the close frame");
                error.initCause(failure);
                fail(error);
            }
        });
    }

    /** The first byte of the peer's close frame has been read, with a handler armed for it. */
    private void peerDetachBeginsLocked() {
        event = DetachRecording.begin(false);
        armDeadlineLocked(peerCloseTimeout);
    }

    private void armDeadlineLocked(Duration timeout) {
        if (timeout.compareTo(LONGEST_DEADLINE) >= 0) {
            return;
        }
        try {
            deadline = threads.timer.schedule(() -> fail(new TimeoutException(missed() + " within " + timeout)),
                    timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // The server is stopping: its detaches can end no other way.
            threads.ioLoop.execute(() -> fail(new TimeoutException("the server is stopping")));
        }
    }

    /** What a deadline that fires now has missed. */
    private String missed() {
        synchronized (lock) {
            return switch (state.state()) {
                case AWAITING_PEER_CLOSE -> "no close frame from the peer";
                case PEER_CLOSE_ARRIVING -> "the peer's close frame did not complete";
                default -> "the hand-over did not complete";
            };
        }
    }

    private void met(int condition) {
        DetachHandler owner;
        CompletableFuture<DetachedConnection> future;
        ByteBuffer initialBytes;
        CloseReason reason;
        DetachEvent recorded;
        synchronized (lock) {
            if (!state.met(condition)) {
                return;
            }
            cancelDeadlineLocked();
            owner = handler;
            future = result;
            // Not null: the peer's close frame, which every hand-over follows, kept what came after it.
            initialBytes = leftover.flip();
            leftover = null;
            reason = peerReason;
            recorded = event;
            event = null;
        }
        int bytesHandedOver = initialBytes.remaining();
        DetachedConnection detached;
        boolean tls;
        try {
            Transport transport = container.release();
            tls = transport.tls != null;
            detached = open(transport, initialBytes, reason);
        } catch (IOException | RuntimeException e) {
            DetachRecording.failed(recorded, container, client, e);
            container.closeTransport();
            if (future != null) {
                LOG.log(Level.WARNING, "detaching " + container + " failed at the hand-over; closing it", e);
                future.completeExceptionally(e);
            } else {
                peerDetachFailed(owner, e);
            }
            return;
        }
        if (future != null && !future.complete(detached)) {
            // Cancelled at the last moment: the caller no longer wants the connection.
            DetachRecording.failed(recorded, container, client, new CancellationException("detach cancelled"));
            closeQuietly(detached);
            return;
        }
        DetachRecording.handedOver(recorded, container, client, tls, bytesHandedOver);
        try {
            owner.onDetached(detached);
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "detach handler " + owner + " of " + container + " failed; closing its connection", e);
            closeQuietly(detached);
        }
    }

    private DetachedConnection open(Transport transport, ByteBuffer initialBytes, CloseReason reason) throws IOException {
        if (transport.tls == null) {
            return new NioDetachedConnection(threads.ioLoop, transport.channel, initialBytes, reason,
                    transport.nativeConnection, transport.onClose);
        }
        return new TlsDetachedConnection(threads.ioLoop, transport.channel, transport.tls, initialBytes,
                transport.undecrypted, reason, transport.nativeConnection, transport.onClose);
    }

    private void fail(Exception error) {
        DetachState.State before;
        CompletableFuture<DetachedConnection> future;
        DetachHandler owner;
        DetachEvent recorded;
        synchronized (lock) {
            before = state.fail();
            if (before == null) {
                return;
            }
            cancelDeadlineLocked();
            future = result;
            owner = handler;
            recorded = event;
            event = null;
        }
        DetachRecording.failed(recorded, container, client, error);
        if (before == DetachState.State.PEER_CLOSE_ARRIVING) {
            // Our reply was not sent yet: the peer gets a close frame that says why, and @OnClose runs with
            // this side's reason before the transport goes, which would give it a reason of its own.
            boolean protocol = error instanceof ProtocolException;
            if (protocol) {
                container.write(closeFrame(new CloseReason(CloseCodes.PROTOCOL_ERROR, "")), ignored -> { });
            }
            container.closeSession(new CloseReason(protocol ? CloseCodes.PROTOCOL_ERROR : CloseCodes.CLOSED_ABNORMALLY,
                    "detach failed"));
        }
        container.closeTransport();
        if (future != null) {
            future.completeExceptionally(error);
        } else {
            peerDetachFailed(owner, error);
        }
    }

    /**
     * A detach the peer started has no future to fail: its failure goes to the log and to its handler, once
     * (the state lets one failure or one hand-over through), once the connection's close has been asked for.
     */
    private void peerDetachFailed(DetachHandler owner, Exception error) {
        String sessionId = container.sessionId();
        LOG.log(Level.WARNING, "the peer-initiated detach of session " + sessionId + " (" + container
                + ") failed; the connection is closed", error);
        try {
            owner.onDetachFailed(sessionId, error);
        } catch (RuntimeException | Error e) {
            LOG.log(Level.WARNING, "onDetachFailed of detach handler " + owner + " for session " + sessionId
                    + " threw; the failure stays as it was", e);
        }
    }

    private void cancelDeadlineLocked() {
        if (deadline != null) {
            deadline.cancel(false);
            // A detached connection keeps this one reachable for its whole life.
            deadline = null;
        }
    }

    private static void closeQuietly(DetachedConnection detached) {
        try {
            detached.close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "closing a detached connection failed", e);
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "DetachableConnection[" + container + ", " + state + "]";
        }
    }
}
