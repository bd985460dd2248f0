package org.wsdetach.tyrus;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.glassfish.grizzly.EmptyCompletionHandler;
import org.glassfish.grizzly.Grizzly;
import org.glassfish.grizzly.attributes.Attribute;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.grizzly.nio.NIOConnection;
import org.glassfish.grizzly.ssl.SSLUtils;
import org.glassfish.tyrus.spi.CompletionHandler;
import org.glassfish.tyrus.spi.Connection;
import org.glassfish.tyrus.spi.ReadHandler;
import org.glassfish.tyrus.spi.WebSocketEngine.UpgradeInfo;
import org.glassfish.tyrus.spi.Writer;
import org.glassfish.tyrus.spi.WriterInfo;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;
import org.wsdetach.spi.CloseFrames;
import org.wsdetach.spi.FrameScanner;

import javax.net.ssl.SSLEngine;
import java.io.IOException;
import java.net.ProtocolException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One upgraded WebSocket connection, standing between Tyrus and Grizzly: every byte read goes through
 * {@link #handle} and every byte Tyrus writes through {@link GuardedWriter}, so a detach can cut the
 * stream exactly at the end of the peer's close frame.
 *
 * <p>Until a detach starts, Tyrus is fed the bytes one frame at a time (a {@link FrameScanner} finds the
 * boundaries), so that when an {@code @OnMessage} asks to detach, the frames behind the current one are
 * still ours and not half-parsed by Tyrus. The close frames of a detach are written here, byte-exact;
 * Tyrus is then told to close, which runs {@code @OnClose} and makes it write a close frame and close
 * its writer, both of which {@link GuardedWriter} swallows.
 *
 * <p>It serves the connections of Tyrus' server and of its client alike. At the hand-over a plain
 * connection leaves Grizzly for a {@link NioDetachedConnection}; a wss one stays in Grizzly, whose SSL
 * filter holds its TLS session, as a {@link TlsDetachedConnection}.
 *
 * <pre>
 *   OPEN ──detach()──────────────▶ CLOSE_SENT ──peer's close frame──┐
 *    │                                                              ▼
 *    ├──peer close frame begins, handler set──▶ CLOSE_ARRIVING ──▶ HANDING_OVER ──▶ DETACHED
 *    │                                  (reply close sent, @OnClose)   │ (close written, read event over,
 *    │                                                                 │  @OnClose done)
 *    └──Tyrus or the transport closes──▶ CLOSED     CLOSE_SENT, CLOSE_ARRIVING, HANDING_OVER
 *                                                     ──timeout, reset, protocol error, cancel──▶ FAILED
 * </pre>
 * CLOSED is the stock path: Tyrus goes on as if this class were not there.
 */
final class DetachableConnection implements Connection, ReadHandler {

    private static final System.Logger LOG = System.getLogger(DetachableConnection.class.getName());
    private static final Attribute<DetachableConnection> ATTRIBUTE =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(DetachableConnection.class.getName());
    /** The connection whose session Tyrus is opening on this thread; see {@link SessionTracker}. */
    private static final ThreadLocal<DetachableConnection> OPENING = new ThreadLocal<>();
    /** The connection whose detach is closing Tyrus' session on this thread. */
    private static final ThreadLocal<DetachableConnection> CLOSING_FOR_DETACH = new ThreadLocal<>();
    /** RFC 6455 wants a client's masking keys unpredictable. */
    private static final SecureRandom MASKING_KEYS = new SecureRandom();
    private static final int OPCODE_CLOSE = 0x8;
    private static final Duration LONGEST_DEADLINE = Duration.ofNanos(Long.MAX_VALUE);

    enum State { OPEN, CLOSE_SENT, CLOSE_ARRIVING, HANDING_OVER, DETACHED, FAILED, CLOSED }

    private final org.glassfish.grizzly.Connection<?> transport;
    private final Writer transportWriter;
    /** Which end of the connection this is: a client masks its frames and reads unmasked ones. */
    private final boolean client;
    private final GuardedWriter guardedWriter = new GuardedWriter();
    private final DetachResources resources;
    /** Used by the reading thread only: Grizzly delivers one read event of a connection at a time. */
    private final FrameScanner scanner;

    private volatile Connection tyrus;
    private volatile ReadHandler tyrusReader;
    /** Changed under this lock; read without it on the reading path, which acts on it under the lock. */
    private volatile State state = State.OPEN;
    private volatile boolean trackingLost;
    private volatile Thread reader;

    // Guarded by this.
    private DetachHandler handler;
    private CompletableFuture<DetachedConnection> result;
    private CloseReason localReason;
    private CloseReason peerReason;
    private ByteBuffer leftover;
    private ScheduledFuture<?> deadline;
    private boolean zeroDeadline;
    private boolean readsHandedOver;
    private boolean closeWritten;
    private boolean readerReleased;
    /** The suspended read event that brought the peer's close frame. */
    private FilterChainContext stoppedEvent;
    private boolean tyrusClosed;
    /** Set once a wss connection is handed over: its reads keep coming through the filter. */
    private volatile TlsDetachedConnection tlsDetached;

    private DetachableConnection(org.glassfish.grizzly.Connection<?> transport, Writer transportWriter,
                                 boolean client, DetachResources resources) {
        this.transport = transport;
        this.transportWriter = transportWriter;
        this.client = client;
        this.resources = resources;
        this.scanner = new FrameScanner(!client);
    }

    /** Creates Tyrus' server connection behind a new instance; plain Tyrus if the transport is unknown. */
    static Connection open(UpgradeInfo upgrade, Writer writer, Connection.CloseListener closeListener,
                           org.glassfish.grizzly.Connection<?> transport,
                           DetachResources resources) {
        if (transport == null) {
            return upgrade.createConnection(writer, closeListener);
        }
        DetachableConnection connection = new DetachableConnection(transport, writer, false, resources);
        Connection tyrus = connection.opening(() -> upgrade.createConnection(connection.guardedWriter, closeListener));
        if (tyrus == null) {
            return null;
        }
        connection.attach(tyrus);
        return connection;
    }

    /**
     * A new instance for a Tyrus client connection: Tyrus must be given its {@link #getWriter() writer}
     * to process the handshake's response with, {@linkplain #opening while opening}, and the connection
     * it then creates must be {@linkplain #attach attached}.
     */
    static DetachableConnection forClient(org.glassfish.grizzly.Connection<?> transport, Writer writer) {
        return new DetachableConnection(transport, writer, true, DetachResources.forClients());
    }

    /** Runs {@code step}, in which Tyrus opens this connection's session and runs {@code @OnOpen}. */
    <T> T opening(java.util.function.Supplier<T> step) {
        OPENING.set(this);
        try {
            return step.get();
        } finally {
            OPENING.remove();
        }
    }

    /** The connection behind {@code writer}, if Tyrus was given the writer of one. */
    static DetachableConnection ofWriter(Object writer) {
        return writer instanceof GuardedWriter ? ((GuardedWriter) writer).owner() : null;
    }

    static DetachableConnection opening() {
        return OPENING.get();
    }

    static DetachableConnection of(org.glassfish.grizzly.Connection<?> transport) {
        return ATTRIBUTE.get(transport);
    }

    void attach(Connection tyrusConnection) {
        tyrusReader = tyrusConnection.getReadHandler();
        tyrus = tyrusConnection;
        ATTRIBUTE.set(transport, this);
        transport.closeFuture().addCompletionHandler(new EmptyCompletionHandler<>() {
            @Override
            public void completed(org.glassfish.grizzly.CloseReason reason) {
                onTransportClosed(reason);
            }
        });
        CloseReason detachedInOnOpen;
        synchronized (this) {
            // A detach from @OnOpen could not close Tyrus' session yet: it had none to close.
            detachedInOnOpen = localReason;
        }
        if (detachedInOnOpen != null) {
            closeTyrus(detachedInOnOpen);
        }
    }

    // ---- the user's requests (through TyrusDetachProvider) ----

    CompletableFuture<DetachedConnection> detach(CloseReason reason, Duration timeout, DetachHandler newHandler) {
        CompletableFuture<DetachedConnection> future = new CompletableFuture<>();
        boolean tyrusAttached;
        synchronized (this) {
            checkOpen();
            state = State.CLOSE_SENT;
            handler = newHandler;
            result = future;
            localReason = reason;
            // Under the lock, so that no message Tyrus sends can slip in behind our close frame.
            sendClose(reason);
            tyrusAttached = tyrus != null;
        }
        future.whenComplete((connection, error) -> {
            if (future.isCancelled()) {
                fail(new CancellationException("detach cancelled"));
            }
        });
        if (tyrusAttached) {
            closeTyrus(reason);
        }
        armDeadline(timeout);
        return future;
    }

    synchronized void detachOnPeerClose(DetachHandler newHandler) {
        checkOpen();
        handler = newHandler;
    }

    private void checkOpen() {
        if (state != State.OPEN) {
            throw new IllegalStateException("session is not open: " + state);
        }
        if (trackingLost) {
            throw new IllegalStateException("the peer broke the WebSocket protocol; the session is closing");
        }
    }

    private void armDeadline(Duration timeout) {
        if (timeout.isZero()) {
            boolean nowOrNever = reader != Thread.currentThread();
            if (nowOrNever) {
                fail(new TimeoutException("the peer's close frame had not arrived (zero timeout)"));
                return;
            }
            synchronized (this) {
                // Called from @OnMessage: the rest of the bytes at hand may hold the close frame.
                zeroDeadline = true;
            }
            return;
        }
        if (timeout.compareTo(LONGEST_DEADLINE) >= 0) {
            return;
        }
        synchronized (this) {
            if (state == State.CLOSE_SENT) {
                deadline = resources.timer.schedule(
                        () -> fail(new TimeoutException("no close frame from the peer within " + timeout)),
                        timeout.toNanos(), TimeUnit.NANOSECONDS);
            }
        }
    }

    // ---- reading: called by Grizzly through Tyrus' filter, one read event at a time ----

    @Override
    public void handle(ByteBuffer data) {
        reader = Thread.currentThread();
        try {
            int end = data.limit();
            int position = data.position();
            while (position < end) {
                switch (state) {
                    case OPEN:
                        position = passToTyrus(data, position, end);
                        break;
                    case CLOSE_SENT:
                    case CLOSE_ARRIVING:
                        position = awaitPeerClose(data, position, end);
                        break;
                    case HANDING_OVER:
                        keep(data, position, end);
                        position = end;
                        break;
                    case CLOSED:
                        feedTyrus(data, position, end);
                        position = end;
                        break;
                    default:
                        // DETACHED or FAILED: the connection is no longer read through here.
                        position = end;
                }
            }
            data.position(end);
        } finally {
            reader = null;
        }
    }

    private int passToTyrus(ByteBuffer data, int from, int end) {
        if (trackingLost) {
            feedTyrus(data, from, end);
            return end;
        }
        if (scanner.atFrameStart() && (data.get(from) & 0x0F) == OPCODE_CLOSE && startPeerDetach()) {
            return from;
        }
        int frameEnd = scanner.scan(data, from, end);
        if (scanner.error() != null) {
            // Tyrus will fail the connection on these very bytes; without frame boundaries we cannot detach.
            trackingLost = true;
            feedTyrus(data, from, end);
            return end;
        }
        feedTyrus(data, from, frameEnd);
        return frameEnd;
    }

    private synchronized boolean startPeerDetach() {
        if (state != State.OPEN || handler == null) {
            return false;
        }
        state = State.CLOSE_ARRIVING;
        return true;
    }

    private void feedTyrus(ByteBuffer data, int from, int to) {
        int limit = data.limit();
        data.limit(to);
        data.position(from);
        tyrusReader.handle(data);
        data.limit(limit);
    }

    private int awaitPeerClose(ByteBuffer data, int from, int end) {
        int next = scanner.scan(data, from, end);
        if (scanner.error() != null) {
            fail(new ProtocolException("while waiting for the peer's close frame: " + scanner.error()));
            return end;
        }
        if (scanner.frameComplete() && scanner.opcode() == OPCODE_CLOSE) {
            onPeerClose(scanner.closeReason(), data, next, end);
            return end;
        }
        // Data, ping and pong frames after our close frame are discarded, as RFC 6455 section 5.5.1 allows.
        return next;
    }

    private void onPeerClose(CloseReason reason, ByteBuffer data, int from, int end) {
        State before;
        synchronized (this) {
            before = state;
            if (before != State.CLOSE_SENT && before != State.CLOSE_ARRIVING) {
                return;
            }
            state = State.HANDING_OVER;
            peerReason = reason;
            readsHandedOver = true;
            keep(data, from, end);
            if (before == State.CLOSE_ARRIVING) {
                sendClose(new CloseReason(reason.getCloseCode(), ""));
            }
        }
        if (before == State.CLOSE_ARRIVING) {
            closeTyrus(reason);
        }
    }

    private synchronized void keep(ByteBuffer data, int from, int end) {
        int length = end - from;
        ByteBuffer kept = leftover;
        if (kept == null || kept.remaining() < length) {
            kept = ByteBuffer.allocate((leftover == null ? 0 : leftover.position()) + length);
            if (leftover != null) {
                kept.put(leftover.flip());
            }
        }
        kept.put(kept.position(), data, from, length);
        kept.position(kept.position() + length);
        leftover = kept;
    }

    /**
     * Called when a read event is over, on the reading thread.
     *
     * @return true if Grizzly must not read this connection any more: the peer's close frame has arrived
     *         and what follows it belongs to the detached connection
     */
    private boolean readEventDone() {
        boolean zeroDeadlineMissed;
        boolean stopReading;
        synchronized (this) {
            zeroDeadlineMissed = zeroDeadline && state == State.CLOSE_SENT;
            zeroDeadline = false;
            stopReading = readsHandedOver && !readerReleased;
        }
        if (zeroDeadlineMissed) {
            fail(new TimeoutException("the peer's close frame had not arrived (zero timeout)"));
        }
        return stopReading;
    }

    /**
     * Called once the read event that brought the peer's close frame is suspended: Grizzly
     * reads this connection no more until the event is resumed, which only a wss connection does.
     */
    private void readsStopped(FilterChainContext event) {
        synchronized (this) {
            readerReleased = true;
            stoppedEvent = event;
        }
        handOverIfReady();
    }

    /** Tyrus' own handling of a read event, by its WebSocket filter. */
    interface TyrusRead {
        NextAction handle() throws IOException;
    }

    /**
     * Handles a read event for the WebSocket filter of a server or client, around Tyrus' own handling: a
     * detached wss connection takes its reads before Tyrus, and the event that brought the peer's close
     * frame is suspended for good, or until a detached wss connection wants more.
     */
    static NextAction handleRead(FilterChainContext event, TyrusRead tyrusRead) throws IOException {
        org.glassfish.grizzly.Connection<?> transport = event.getConnection();
        DetachableConnection connection = of(transport);
        TlsDetachedConnection secure = connection == null ? null : connection.tlsDetached;
        if (secure != null) {
            return secure.onRead(event);
        }
        NextAction next = tyrusRead.handle();
        connection = of(transport);
        if (connection != null && connection.readEventDone()) {
            // Grizzly disabled read interest for this event and enables it again when the event completes. A
            // suspended event does not complete, so the bytes after the peer's close frame stay in the socket.
            event.suspend();
            connection.readsStopped(event);
            return event.getSuspendAction();
        }
        return next;
    }

    // ---- writing and closing ----

    /** Writes one of our close frames; Tyrus' writer keeps it behind everything the session sent before. */
    private void sendClose(CloseReason reason) {
        transportWriter.write(closeFrame(reason), new CompletionHandler<>() {
            @Override
            public void completed(ByteBuffer frame) {
                synchronized (DetachableConnection.this) {
                    closeWritten = true;
                }
                handOverIfReady();
            }

            @Override
            public void failed(Throwable error) {
                fail(closedBeforePeerClose("could not send the close frame", error));
            }
        });
    }

    private ByteBuffer closeFrame(CloseReason reason) {
        return client ? CloseFrames.clientFrame(reason, MASKING_KEYS.nextInt()) : CloseFrames.serverFrame(reason);
    }

    /** Whether Tyrus is closing a session on this thread because it detaches; see DetachAwareReconnectHandler. */
    static boolean closingForDetach() {
        return CLOSING_FOR_DETACH.get() != null;
    }

    private void closeTyrus(CloseReason reason) {
        CLOSING_FOR_DETACH.set(this);
        try {
            tyrus.close(reason);
        } finally {
            CLOSING_FOR_DETACH.remove();
        }
        synchronized (this) {
            tyrusClosed = true;
        }
        handOverIfReady();
    }

    private void handOverIfReady() {
        DetachHandler owner;
        CompletableFuture<DetachedConnection> future;
        ByteBuffer initialBytes;
        FilterChainContext event;
        synchronized (this) {
            if (state != State.HANDING_OVER || !closeWritten || !readerReleased || !tyrusClosed) {
                return;
            }
            state = State.DETACHED;
            cancelDeadline();
            owner = handler;
            future = result;
            initialBytes = leftover == null ? ByteBuffer.allocate(0) : leftover.flip();
            leftover = null;
            event = stoppedEvent;
            stoppedEvent = null;
        }
        DetachedConnection detached;
        SSLEngine tls = SSLUtils.getSSLEngine(transport);
        if (tls == null) {
            SocketChannel channel = (SocketChannel) ((NIOConnection) transport).getChannel();
            detached = new NioDetachedConnection(resources.ioLoop, channel, initialBytes, peerReason, transport,
                    client ? this::releaseClientTransport : transport::terminateSilently);
        } else {
            TlsDetachedConnection secure = new TlsDetachedConnection(resources.ioLoop, transport, tls, initialBytes,
                    peerReason, event, client ? this::releaseClientTransport : transport::closeSilently);
            tlsDetached = secure;
            detached = secure;
        }
        if (future != null && !future.complete(detached)) {
            closeQuietly(detached);
            return;
        }
        try {
            owner.onDetached(detached);
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.WARNING, "detach handler " + owner + " failed; closing its connection", e);
            closeQuietly(detached);
        }
    }

    /** A Tyrus client's writer closes the connection and shuts down the client's own Grizzly transport. */
    private void releaseClientTransport() {
        try {
            transportWriter.close();
        } catch (java.io.IOException e) {
            transport.terminateSilently();
        }
    }

    private static void closeQuietly(DetachedConnection detached) {
        try {
            detached.close();
        } catch (java.io.IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing a detached connection failed", e);
        }
    }

    private void fail(Exception error) {
        State before;
        CompletableFuture<DetachedConnection> future;
        synchronized (this) {
            before = state;
            if (before != State.CLOSE_SENT && before != State.CLOSE_ARRIVING && before != State.HANDING_OVER) {
                return;
            }
            state = State.FAILED;
            cancelDeadline();
            future = result;
            if (before == State.CLOSE_ARRIVING && error instanceof ProtocolException) {
                transportWriter.write(closeFrame(new CloseReason(CloseCodes.PROTOCOL_ERROR, "")), null);
            }
        }
        if (before == State.CLOSE_ARRIVING) {
            // Before the transport closes: Grizzly's close would give @OnClose a reason of its own.
            tyrus.close(new CloseReason(error instanceof ProtocolException
                    ? CloseCodes.PROTOCOL_ERROR : CloseCodes.CLOSED_ABNORMALLY, error.getMessage()));
        }
        // Through Tyrus' writer, so that a close frame still queued goes out before the FIN.
        try {
            transportWriter.close();
        } catch (java.io.IOException e) {
            transport.terminateSilently();
        }
        if (future != null) {
            future.completeExceptionally(error);
        } else {
            LOG.log(System.Logger.Level.DEBUG, "peer-initiated detach failed", error);
        }
    }

    private void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    private void onTransportClosed(org.glassfish.grizzly.CloseReason reason) {
        State before;
        synchronized (this) {
            before = state;
            if (before == State.OPEN) {
                state = State.CLOSED;
            }
        }
        TlsDetachedConnection secure = tlsDetached;
        if (before == State.DETACHED && secure != null) {
            secure.onTransportClosed();
        }
        if (before == State.CLOSE_SENT || before == State.CLOSE_ARRIVING || before == State.HANDING_OVER) {
            // Grizzly reports a reset as an end of stream: both are ECONNRESET here.
            fail(closedBeforePeerClose("connection closed (" + reason.getType() + ") before the peer's close frame",
                    reason.getCause()));
        }
    }

    private static SocketException closedBeforePeerClose(String message, Throwable cause) {
        SocketException exception = new SocketException(message);
        exception.initCause(cause);
        return exception;
    }

    // ---- Tyrus' view ----

    @Override
    public ReadHandler getReadHandler() {
        return this;
    }

    @Override
    public Writer getWriter() {
        return guardedWriter;
    }

    @Override
    public CloseListener getCloseListener() {
        return tyrus.getCloseListener();
    }

    @Override
    public void close(CloseReason reason) {
        tyrus.close(reason);
    }

    /**
     * Tyrus' writer, closed to Tyrus once a detach has started: a close frame Tyrus writes then is ours
     * already sent, any other frame would follow our close frame and fails, and Tyrus' final close of the
     * writer must not close the connection.
     */
    private final class GuardedWriter extends Writer {

        DetachableConnection owner() {
            return DetachableConnection.this;
        }

        @Override
        public void write(ByteBuffer buffer, CompletionHandler<ByteBuffer> completion) {
            write(buffer, completion, null);
        }

        @Override
        public void write(ByteBuffer buffer, CompletionHandler<ByteBuffer> completion, WriterInfo info) {
            synchronized (DetachableConnection.this) {
                if (state == State.OPEN || state == State.CLOSED) {
                    if (info == null) {
                        transportWriter.write(buffer, completion);
                    } else {
                        transportWriter.write(buffer, completion, info);
                    }
                    return;
                }
            }
            if (completion == null) {
                return;
            }
            if (buffer.hasRemaining() && (buffer.get(buffer.position()) & 0x0F) == OPCODE_CLOSE) {
                completion.completed(buffer);
            } else {
                completion.failed(new IllegalStateException("the session has been detached"));
            }
        }

        @Override
        public void close() throws java.io.IOException {
            boolean stock;
            synchronized (DetachableConnection.this) {
                stock = state == State.OPEN || state == State.CLOSED;
                if (stock) {
                    state = State.CLOSED;
                }
            }
            if (stock) {
                transportWriter.close();
            }
        }
    }
}
