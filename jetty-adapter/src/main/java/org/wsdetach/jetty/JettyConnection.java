package org.wsdetach.jetty;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.io.SelectableChannelEndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.WebSocketConnection;
import org.wsdetach.DetachOnPeerClose;
import org.wsdetach.core.ContainerConnection;
import org.wsdetach.core.ContainerWrite;
import org.wsdetach.core.DetachThreads;
import org.wsdetach.core.DetachableConnection;
import org.wsdetach.core.Transport;
import org.wsdetach.spi.CloseFrames;
import org.wsdetach.spi.FrameScanner;
import org.wsdetach.spi.WebSocketProtocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadPendingException;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One WebSocket connection of Jetty's, seen from below Jetty's {@code WebSocketConnection}: the Jetty glue of
 * a {@link DetachableConnection}. Jetty pulls its bytes through {@link JettyEndPoint#fill}; each pull reads
 * the network, if need be, and gives Jetty at most one frame through the core, so that a detach asked for
 * while Jetty handles a frame finds the frames behind it unparsed. Jetty's writes pass through the core too;
 * our close frame goes out on the real end point in place of the close frame Jetty queues when the detach
 * closes its session, so behind everything Jetty had queued.
 *
 * <p>Jetty runs {@code @OnClose} and forgets a session only once it has seen both close frames. A detach
 * therefore closes Jetty's session its own way ({@link CoreSession#close}, whose close frame is swallowed),
 * then gives Jetty, as its next bytes, a close frame from the peer with the same reason: Jetty answers it
 * (swallowed too), runs {@code @OnClose} and lets go of the connection, while the core reads the real peer's
 * close frame.
 */
final class JettyConnection implements ContainerConnection {

    /** At least a TLS record's plaintext, so that Jetty's TLS layer decrypts into it directly. */
    private static final int READ_BUFFER_BYTES = 32 * 1024;
    private static final System.Logger LOG = System.getLogger(JettyConnection.class.getName());
    private static final ByteBuffer NO_BYTES = ByteBuffer.allocate(0);

    private final EndPoint real;
    private final ByteBufferPool pool;
    private final java.net.SocketAddress peer;
    private final CoreSession session;
    /** The Jakarta session's id, which Jetty makes after this connection. */
    private final Supplier<String> sessionId;
    private final Executor executor;
    private final DetachableConnection core;
    private final JettyEndPoint endPoint;
    /** Whether the real end point is a TCP one, directly or under TLS: the only kind the core takes over. */
    private final boolean detachable;

    // Used by Jetty's reading thread only.
    /**
     * Network bytes read and not yet given to the core, between position and limit: {@link #pooledIn}'s buffer,
     * or {@link #NO_BYTES} between reads, so that an idle session, detached or not, holds no read buffer.
     */
    private ByteBuffer in = NO_BYTES;
    private RetainableByteBuffer pooledIn;
    /** Jetty's buffer being filled, while the core delivers into it. */
    private ByteBuffer target;
    private boolean stopReading;
    /** Written by the reader; read under this connection's monitor by {@link #fillInterested}. */
    private volatile boolean readsStoppedReported;
    private boolean syntheticCloseGiven;
    private boolean sessionClosedReported;
    private boolean inReadEvent;

    // Written by any thread.
    /** The close frame Jetty is to read as the peer's; null once given, or if there is none. */
    private volatile ByteBuffer syntheticClose;
    // Guarded by this.
    /** Jetty's read callback, waiting for network bytes or for the synthetic close frame. */
    private Callback heldFill;
    /** Whether {@link #networkReadable} is registered with the real end point. */
    private boolean realFillInterest;
    private final FrameScanner outbound = new FrameScanner(false);
    /** Set once our close frame has been handed to the real end point: Jetty's frames are refused after it. */
    private volatile boolean ourCloseQueued;
    private volatile boolean jettyCloseSwallowed;
    private final AtomicReference<PendingClose> pendingClose = new AtomicReference<>();
    private volatile CompletableFuture<Void> lastWrite = CompletableFuture.completedFuture(null);

    JettyConnection(EndPoint real, ByteBufferPool pool, CoreSession session, Executor executor,
                    DetachThreads threads, DetachOnPeerClose declared, Supplier<String> sessionId) {
        this.real = real;
        this.pool = pool;
        // Read now: a closed end point has no address any more, and the logs name failed connections.
        this.peer = real.getRemoteSocketAddress();
        this.session = session;
        this.sessionId = sessionId;
        this.executor = executor;
        this.core = DetachableConnection.forServer(this, threads);
        this.endPoint = new JettyEndPoint(real, this);
        this.detachable = networkEndPoint(real) != null;
        outbound.checkMasking(false);
        if (declared != null && detachable) {
            core.detachOnPeerClose(declared);
        }
    }

    JettyEndPoint endPoint() {
        return endPoint;
    }

    /**
     * The core of this connection.
     *
     * @throws UnsupportedOperationException if its transport cannot be taken over (WebSocket over HTTP/2)
     */
    DetachableConnection detachable(String sessionId) {
        if (!detachable) {
            throw notTcp(sessionId, real);
        }
        return core;
    }

    /** Whether {@code endPoint} is a TCP connection of its own, directly or under Jetty's TLS. */
    static boolean isTcp(EndPoint endPoint) {
        return networkEndPoint(endPoint) != null;
    }

    /** The refusal of a session whose connection runs over {@code endPoint}, no TCP connection of its own. */
    static UnsupportedOperationException notTcp(String sessionId, EndPoint endPoint) {
        return new UnsupportedOperationException("session " + sessionId + " cannot be detached: it runs over "
                + endPoint.getClass().getName() + ", not a TCP connection of its own (WebSocket over HTTP/2,"
                + " RFC 8441, shares one)");
    }

    /** The TCP end point under {@code endPoint}, directly or under Jetty's TLS; null if there is none. */
    private static SelectableChannelEndPoint networkEndPoint(EndPoint endPoint) {
        EndPoint network = endPoint instanceof SslConnection.SslEndPoint
                ? ((SslConnection.SslEndPoint) endPoint).getSslConnection().getEndPoint() : endPoint;
        return network instanceof SelectableChannelEndPoint
                && ((SelectableChannelEndPoint) network).getChannel() instanceof SocketChannel
                ? (SelectableChannelEndPoint) network : null;
    }

    boolean jettyOwns() {
        return !core.detachStarted();
    }

    // ---- Jetty's reads ----

    /**
     * Jetty's fill: at most one frame from the core, or the synthetic close frame. A run of fills that ends in
     * 0, end of stream or a failure is one read event of the core's (a zero-timeout detach asked for in
     * {@code @OnMessage} looks at what Jetty read in it).
     */
    int fill(ByteBuffer buffer) throws IOException {
        // Jetty may close its session, and never ask to fill again, from the bytes of this very fill.
        watchJettysConnection();
        if (!inReadEvent) {
            inReadEvent = true;
            core.readEventBegins();
        }
        int filled;
        try {
            filled = fillOnce(buffer);
        } catch (IOException | RuntimeException e) {
            endReadEvent();
            throw e;
        }
        if (filled <= 0) {
            endReadEvent();
        }
        return filled;
    }

    private void endReadEvent() {
        inReadEvent = false;
        core.readEventEnds();
    }

    private int fillOnce(ByteBuffer buffer) throws IOException {
        if (syntheticCloseGiven && !sessionClosedReported) {
            // Jetty reads again once it has handled the close frame it was given: @OnClose has run.
            sessionClosedReported = true;
            core.sessionClosed();
        }
        int before = buffer.limit();
        while (true) {
            ByteBuffer close = syntheticClose;
            if (close != null) {
                syntheticClose = null;
                syntheticCloseGiven = true;
                append(buffer, close);
                return buffer.limit() - before;
            }
            if (in.hasRemaining()) {
                giveCoreOneStep(buffer);
                if (buffer.limit() > before) {
                    return buffer.limit() - before;
                }
                continue;
            }
            if (stopReading) {
                releaseReadBuffer();
                reportReadsStopped();
                return 0;
            }
            int n = -1;
            acquireReadBuffer();
            filling = Thread.currentThread();
            try {
                n = real.fill(in);
            } catch (IOException e) {
                core.onTransportClosed(e.toString(), e);
                throw e;
            } finally {
                filling = null;
                if (n <= 0) {
                    releaseReadBuffer();
                }
                if (closedByJetty) {
                    // Closed while this fill ran, which may have read on as if it were not.
                    core.onTransportClosed("closed by Jetty", null);
                }
            }
            if (n < 0) {
                core.onTransportClosed("end of stream", null);
                return -1;
            }
            if (n == 0) {
                return 0;
            }
        }
    }

    /** An empty read buffer in {@link #in}, kept from the last fill while that one read bytes. */
    private void acquireReadBuffer() {
        if (pooledIn == null) {
            pooledIn = pool.acquire(READ_BUFFER_BYTES, false);
            in = pooledIn.getByteBuffer();
        }
        in.position(0).limit(0);
    }

    /** Called only with {@link #in} drained: the core took every byte it held. */
    private void releaseReadBuffer() {
        if (pooledIn != null) {
            in = NO_BYTES;
            pooledIn.release();
            pooledIn = null;
        }
    }

    private void giveCoreOneStep(ByteBuffer buffer) {
        int limit = in.limit();
        in.limit(Math.min(limit, in.position() + buffer.capacity() - buffer.limit()));
        target = buffer;
        try {
            core.onInboundFrame(in);
        } finally {
            target = null;
            in.limit(limit);
        }
    }

    private void reportReadsStopped() {
        if (readsStoppedReported) {
            return;
        }
        readsStoppedReported = true;
        if (real instanceof SslConnection.SslEndPoint) {
            // Plaintext Jetty's TLS layer decrypted and had not handed out yet.
            ByteBuffer decrypted = JettyInternals.decryptedInput(((SslConnection.SslEndPoint) real).getSslConnection());
            if (decrypted.hasRemaining()) {
                core.onInbound(decrypted);
            }
        }
        core.readsStopped();
    }

    private static void append(ByteBuffer buffer, ByteBuffer bytes) {
        int position = buffer.position();
        int limit = buffer.limit();
        buffer.limit(limit + bytes.remaining()).position(limit);
        buffer.put(bytes);
        buffer.position(position);
    }

    /**
     * Jetty wants to be told when it can fill again. Its callback is kept here, and our own one registered with
     * the real end point, so that the callback can also be run without network bytes: to give Jetty the
     * synthetic close frame. Once reads have stopped it is kept for good. Jetty is called outside this
     * connection's monitor: Jetty's selector, closing the end point, calls back into it holding its own lock.
     */
    void fillInterested(Callback callback) throws ReadPendingException {
        watchJettysConnection();
        boolean wake = false;
        boolean registerReal = false;
        synchronized (this) {
            if (heldFill != null) {
                throw new ReadPendingException();
            }
            heldFill = callback;
            if (syntheticClose != null) {
                wake = true;
            } else if (!readsStoppedReported && !realFillInterest) {
                realFillInterest = true;
                registerReal = true;
            }
        }
        if (wake) {
            wakeJetty();
        } else if (registerReal) {
            real.fillInterested(networkReadable);
        }
    }

    boolean tryFillInterested(Callback callback) {
        try {
            fillInterested(callback);
            return true;
        } catch (ReadPendingException pending) {
            return false;
        }
    }

    synchronized boolean isFillInterested() {
        return heldFill != null;
    }

    private void wakeJetty() {
        Callback held;
        synchronized (this) {
            held = heldFill;
            heldFill = null;
        }
        if (held != null) {
            executor.execute(held::succeeded);
        }
    }

    /**
     * Listens to the close of Jetty's WebSocket connection over the real end point, once: Jetty's stop closes
     * every end point, and that close may come while no read of ours is pending to fail, even after Jetty's
     * session is closed and Jetty reads no more, while our detach still waits for the peer's close frame.
     * Called from Jetty's first fill and from each wish to fill: Jetty may ask to fill before its upgrade has
     * put its WebSocket connection on the end point, and the HTTP connection before it closes at the upgrade,
     * which is no close of the transport.
     */
    private void watchJettysConnection() {
        if (watched) {
            return;
        }
        Connection jetty = real.getConnection();
        synchronized (this) {
            if (watched || !(jetty instanceof WebSocketConnection)) {
                return;
            }
            watched = true;
        }
        jetty.addEventListener(closeListener);
        if (!real.isOpen()) {
            // Closed before the listener was added, so perhaps unheard.
            core.onTransportClosed("closed by Jetty", null);
        }
    }

    /** Whether {@link #closeListener} listens to Jetty's WebSocket connection. Set under this. */
    private volatile boolean watched;
    /** The thread in the real end point's fill, if any: its end or failure reaches the core from there. */
    private volatile Thread filling;
    private volatile boolean closedByJetty;

    private final Connection.Listener closeListener = new Connection.Listener() {
        @Override
        public void onClosed(Connection closed) {
            closedByJetty = true;
            if (filling == null) {
                // Else the fill under way reports it as it ends: with its cause, if the close is its failure's.
                core.onTransportClosed("closed by Jetty", null);
            }
        }
    };

    /** Registered with the real end point on Jetty's behalf. */
    private final Callback networkReadable = new Callback() {
        @Override
        public void succeeded() {
            Callback held = networkEventTaken();
            if (held != null) {
                held.succeeded();
            }
        }

        @Override
        public void failed(Throwable cause) {
            // The end point closed under a pending read: Jetty's stop, or a failure of the connection.
            core.onTransportClosed("read failed: " + cause, cause);
            Callback held = networkEventTaken();
            if (held != null) {
                held.failed(cause);
            }
        }
    };

    /** The real end point's registration is used up: Jetty's callback, if it is still waiting, runs now. */
    private synchronized Callback networkEventTaken() {
        realFillInterest = false;
        Callback held = heldFill;
        heldFill = null;
        return held;
    }

    // ---- Jetty's writes ----

    void write(Callback callback, ByteBuffer... buffers) {
        boolean close = containsCloseFrame(buffers);
        switch (core.onContainerQueues(close)) {
            case WRITTEN -> real.write(callback, buffers);
            case SWALLOWED -> {
                // Jetty gathers the frames it queued before its close frame into the close frame's write.
                ByteBuffer[] before = framesBeforeClose(buffers);
                if (before.length == 0) {
                    swallowJettysClose(callback);
                } else {
                    real.write(Callback.from(() -> swallowJettysClose(callback), callback::failed), before);
                }
            }
            case REFUSED -> {
                if (!ourCloseQueued) {
                    // Queued by Jetty before the detach closed its session, so before Jetty's close frame,
                    // which takes ours out: it goes out before ours.
                    real.write(callback, buffers);
                } else {
                    callback.failed(new IOException("the session has been detached"));
                }
            }
        }
    }

    /** Everything Jetty queued before its close frame is written: our close frame goes out in its place. */
    private void swallowJettysClose(Callback callback) {
        jettyCloseSwallowed = true;
        writeOurClose(callback);
    }

    /** Where the close frame of the last {@link #containsCloseFrame} begins: its buffer, and its index there. */
    private int closeFrameBuffer;
    private int closeFrameStart;

    private boolean containsCloseFrame(ByteBuffer[] buffers) {
        synchronized (outbound) {
            int frameBuffer = 0;
            int frameStart = buffers.length == 0 ? 0 : buffers[0].position();
            for (int i = 0; i < buffers.length; i++) {
                ByteBuffer buffer = buffers[i];
                int position = buffer.position();
                int end = buffer.limit();
                while (position < end) {
                    if (outbound.atFrameStart()) {
                        frameBuffer = i;
                        frameStart = position;
                    }
                    position = outbound.scan(buffer, position, end);
                    if (outbound.error() != null) {
                        return false;
                    }
                    if (outbound.frameComplete() && outbound.opcode() == WebSocketProtocol.OPCODE_CLOSE) {
                        // Jetty queues nothing behind its close frame.
                        closeFrameBuffer = frameBuffer;
                        closeFrameStart = frameStart;
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** The bytes of {@code buffers} before their close frame, as found by {@link #containsCloseFrame}. */
    private ByteBuffer[] framesBeforeClose(ByteBuffer[] buffers) {
        ByteBuffer last = buffers[closeFrameBuffer];
        boolean partial = closeFrameStart > last.position();
        ByteBuffer[] before = Arrays.copyOf(buffers, closeFrameBuffer + (partial ? 1 : 0));
        if (partial) {
            before[closeFrameBuffer] = last.duplicate().limit(closeFrameStart);
        }
        return before;
    }

    void shutdownOutput() {
        // Jetty shuts output down right after its close frame; a detach keeps the connection open.
        if (jettyOwns()) {
            real.shutdownOutput();
        }
    }

    void close(Throwable cause) {
        if (core.onContainerReleases()) {
            real.close(cause);
        }
    }

    void setIdleTimeout(long idleTimeout) {
        if (jettyOwns()) {
            real.setIdleTimeout(idleTimeout);
        }
    }

    // ---- ContainerConnection ----

    @Override
    public void deliver(ByteBuffer bytes) {
        append(target, bytes);
    }

    @Override
    public void write(ByteBuffer frame, Consumer<Throwable> done) {
        CompletableFuture<Void> written = new CompletableFuture<>();
        lastWrite = written;
        pendingClose.set(new PendingClose(frame, Callback.from(() -> {
            written.complete(null);
            done.accept(null);
        }, failure -> {
            written.complete(null);
            done.accept(failure);
        })));
        // In place of the close frame closeSession has Jetty queue next: behind every frame Jetty took before,
        // and with Jetty's output closed from then on, so that a message sent meanwhile is refused by Jetty
        // itself, as on a closed session, rather than failing its connection here. Jetty's close frame may have
        // been swallowed already (a failure's close, queued first).
        if (jettyCloseSwallowed) {
            writeOurClose(null);
        }
    }

    /** Writes our close frame if one is pending, then completes {@code after} (a swallowed write of Jetty's). */
    private void writeOurClose(Callback after) {
        PendingClose close = pendingClose.getAndSet(null);
        if (close == null) {
            if (after != null) {
                after.succeeded();
            }
            return;
        }
        ourCloseQueued = true;
        real.write(Callback.from(() -> {
            close.written.succeeded();
            if (after != null) {
                after.succeeded();
            }
        }, failure -> {
            close.written.failed(failure);
            if (after != null) {
                after.failed(failure);
            }
        }), close.frame);
    }

    private record PendingClose(ByteBuffer frame, Callback written) {
    }

    @Override
    public void stopReading() {
        stopReading = true;
    }

    @Override
    public void closeSession(CloseReason reason) {
        if (reason.getCloseCode() == CloseCodes.CLOSED_ABNORMALLY) {
            // A failed detach: closing the transport makes Jetty close the session abnormally.
            return;
        }
        syntheticClose = CloseFrames.clientFrame(reason, 0);
        // Jetty's close frame takes ours out (write); if Jetty can queue none, ours goes out anyway.
        session.close(reason.getCloseCode().getCode(), reason.getReasonPhrase(),
                Callback.from(() -> { }, failure -> writeOurClose(null)));
        wakeJetty();
    }

    @Override
    public void closeTransport() {
        lastWrite.whenComplete((ignored, error) -> real.close());
    }

    @Override
    public Transport release() {
        SelectableChannelEndPoint network = networkEndPoint(real);
        // The detached connection is the application's: no timeout of Jetty's may close it.
        network.setIdleTimeout(0);
        SocketChannel channel = (SocketChannel) network.getChannel();
        letGoOfJettysConnection();
        if (real instanceof SslConnection.SslEndPoint) {
            SslConnection tls = ((SslConnection.SslEndPoint) real).getSslConnection();
            return Transport.tls(channel, tls.getSSLEngine(), JettyInternals.encryptedInput(tls), real, network::close);
        }
        return Transport.plain(channel, real, network::close);
    }

    /**
     * Upgrades the end point, Jetty's way of passing it on, to a connection of ours that reads nothing: Jetty's
     * session has closed, and Jetty's WebSocket connection closes as in any upgrade.
     */
    private void letGoOfJettysConnection() {
        Connection jetty = real.getConnection();
        if (!(jetty instanceof WebSocketConnection)) {
            return;
        }
        // Its close now is no close of the transport.
        jetty.removeEventListener(closeListener);
        try {
            real.upgrade(new HandedOverConnection(real, executor));
        } catch (RuntimeException e) {
            // Jetty's connection was closing already: it then stays on the end point, and only costs memory.
            LOG.log(System.Logger.Level.DEBUG, "upgrading " + this + " to the handed-over connection failed", e);
        }
    }

    @Override
    public String sessionId() {
        return sessionId.get();
    }

    @Override
    public String containerName() {
        return "Jetty";
    }

    @Override
    public boolean secure() {
        return real instanceof SslConnection.SslEndPoint;
    }

    @Override
    public String toString() {
        return "Jetty connection " + peer;
    }
}
