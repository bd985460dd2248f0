package org.wsdetach.tomcat;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.apache.tomcat.util.net.AbstractEndpoint.Handler.SocketState;
import org.apache.tomcat.util.net.NioChannel;
import org.apache.tomcat.util.net.NioEndpoint;
import org.apache.tomcat.util.net.SecureNioChannel;
import org.apache.tomcat.util.net.SocketBufferHandler;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;
import org.apache.tomcat.websocket.Transformation;
import org.apache.tomcat.websocket.WsSession;
import org.wsdetach.DetachOnPeerClose;
import org.wsdetach.core.ContainerConnection;
import org.wsdetach.core.ContainerWrite;
import org.wsdetach.core.DetachThreads;
import org.wsdetach.core.DetachableConnection;
import org.wsdetach.core.Transport;
import org.wsdetach.spi.WebSocketProtocol;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One upgraded WebSocket connection of Tomcat's NIO connector: the Tomcat glue of a
 * {@link DetachableConnection}. Tomcat reads and parses frames itself; its {@link FrameGate} asks the core
 * at every frame start whether Tomcat goes on. From the frame on which the core takes the stream, Tomcat's
 * read events come here ({@link #dispatch}): the bytes Tomcat had read and not parsed, then what the socket
 * wrapper reads, go to the core, until the peer's close frame has been read and the connection is parked
 * ({@link SocketState#SUSPENDED}: Tomcat asks the socket for nothing more). Our close frames go into Tomcat's
 * own write queue; Tomcat writes nothing after a close frame.
 */
final class TomcatConnection implements ContainerConnection {

    /** The key under which the connection is among its session's user properties. */
    static final String SESSION_PROPERTY = "org.wsdetach.tomcat.connection";
    /** Tomcat's own: how long a closed session waits for the peer's close frame before Tomcat closes it. */
    private static final String SESSION_CLOSE_TIMEOUT = "org.apache.tomcat.websocket.SESSION_CLOSE_TIMEOUT";
    private static final System.Logger LOG = System.getLogger(TomcatConnection.class.getName());

    private final DetachingUpgradeHandler handler;
    private final DetachableConnection core;
    private final Class<?> endpointClass;
    private SocketWrapperBase<?> socket;
    /** Read when the socket is given: a closed socket wrapper has no address any more, and the logs name connections. */
    private volatile String peer = "(opening)";
    /** Null unless the NIO connector serves the connection: only its transport can be taken over. */
    private NioChannel channel;
    private volatile WsSession session;
    /** The close frame being queued by {@link #write}; the gate lets it through. */
    private volatile ByteBuffer ourFrame;
    private volatile CompletableFuture<Void> lastWrite = CompletableFuture.completedFuture(null);
    private volatile CloseReason sessionCloseReason;

    // Used by the reading thread only, but for closeSession's look at coreReads.
    /** Tomcat's input buffer: its own until the core takes the stream, the core's read buffer from then on. */
    private ByteBuffer input;
    private int takeOverAt;
    private volatile boolean coreReads;
    private boolean stopReading;

    TomcatConnection(DetachingUpgradeHandler handler, DetachThreads threads, Class<?> endpointClass) {
        this.handler = handler;
        this.endpointClass = endpointClass;
        this.core = DetachableConnection.forServer(this, threads);
    }

    /** The head of the transformation chain Tomcat builds the session with. */
    Transformation gate(Transformation negotiated) {
        return new FrameGate(this, negotiated);
    }

    /** Tomcat has given the upgrade handler its socket: called before the session opens. */
    void socket(SocketWrapperBase<?> wrapper) {
        socket = wrapper;
        peer = wrapper.getRemoteAddr() + ":" + wrapper.getRemotePort();
        if (wrapper instanceof NioEndpoint.NioSocketWrapper) {
            channel = ((NioEndpoint.NioSocketWrapper) wrapper).getSocket();
        }
        DetachOnPeerClose declared = endpointClass.getAnnotation(DetachOnPeerClose.class);
        if (declared == null) {
            return;
        }
        if (channel == null) {
            LOG.log(System.Logger.Level.WARNING, "@DetachOnPeerClose of " + endpointClass.getName()
                    + " cannot take effect: " + unsupportedConnector());
            return;
        }
        core.detachOnPeerClose(declared);
    }

    /** The session is open: Tomcat has created it, its reader and its remote endpoint, and run {@code @OnOpen}. */
    void opened() {
        if (session == null) {
            session = TomcatInternals.session(handler);
        }
        input = TomcatInternals.inputBuffer(handler);
    }

    /**
     * The core of this connection, for {@code session}.
     *
     * @throws UnsupportedOperationException if this connection cannot be detached
     */
    DetachableConnection detachable(WsSession of) {
        if (channel == null) {
            throw new UnsupportedOperationException("session " + of.getId() + " cannot be detached: "
                    + unsupportedConnector());
        }
        if (session == null) {
            // From @OnOpen: Tomcat creates the session inside the handler's init, before the adapter can see it.
            session = of;
        }
        return core;
    }

    private String unsupportedConnector() {
        return "its connector is " + socket.getClass().getName() + "; wsdetach-tomcat takes over connections"
                + " of the NIO connector (org.apache.coyote.http11.Http11NioProtocol, Tomcat's default) only";
    }

    // ---- the gate ----

    /** Tomcat's parser is at the start of a frame: whether Tomcat reads it. */
    boolean tomcatReadsFrame() {
        ByteBuffer in = input;
        int start = in.position() - 1;
        if (core.onFrameStart(in.get(start))) {
            return true;
        }
        takeOverAt = start;
        return false;
    }

    /** A detach has started, and Tomcat's parser is between frames: what comes now is the core's. */
    private boolean detachingBetweenFrames() {
        if (input == null || !core.detachStarted() || !TomcatInternals.atFrameStart(handler)) {
            return false;
        }
        takeOverAt = input.position();
        return true;
    }

    /**
     * Tomcat parses a frame's first byte only with its second: the first byte of a close frame alone is not
     * shown to the gate, yet starts the deadline of a peer-initiated detach.
     */
    private boolean aLoneFrameStartIsTaken() {
        ByteBuffer in = input;
        if (in == null || in.remaining() != 1 || !TomcatInternals.atFrameStart(handler)
                || core.onFrameStart(in.get(in.position()))) {
            return false;
        }
        takeOverAt = in.position();
        return true;
    }

    boolean isOurs(ByteBuffer payload) {
        return payload != null && payload == ourFrame;
    }

    ContainerWrite tomcatQueues(boolean closeFrame) {
        return core.onContainerQueues(closeFrame);
    }

    // ---- Tomcat's events for the connection ----

    /** Handles a socket event for the upgrade handler, which passes everything here. */
    SocketState dispatch(SocketEvent event) {
        return core.reading(() -> dispatchReading(event));
    }

    private SocketState dispatchReading(SocketEvent event) {
        boolean io = event == SocketEvent.OPEN_READ || event == SocketEvent.OPEN_WRITE;
        if (!io) {
            // Stop, timeout, disconnect, error: the connection is going, and no detach can finish any more.
            core.onTransportClosed("Tomcat's " + event + " event", null);
        }
        if (coreReads) {
            if (event == SocketEvent.OPEN_READ) {
                return readForCore();
            }
            // Tomcat completes its non-blocking writes, ours among them, on write events.
            return io ? handler.dispatchToTomcat(event) : SocketState.CLOSED;
        }
        if (event == SocketEvent.OPEN_READ && detachingBetweenFrames()) {
            return takeOver();
        }
        SocketState state;
        try {
            state = handler.dispatchToTomcat(event);
        } catch (FrameGate.TakeOver takeOver) {
            // The gate has recorded where.
            return takeOver();
        }
        if (state == SocketState.CLOSED) {
            // Tomcat failed the connection: end of stream, a read error, a frame it would not take.
            core.onTransportClosed("closed by Tomcat", null);
            return state;
        }
        if (event != SocketEvent.OPEN_READ) {
            return state;
        }
        if (state == SocketState.SUSPENDED && core.detachStarted()) {
            // Suspended by closeSession: between frames the rest is the core's; inside one, Tomcat reads on
            // to its end, where the gate takes the stream.
            if (detachingBetweenFrames()) {
                return takeOver();
            }
            session.resume();
            return state;
        }
        return state == SocketState.UPGRADED && aLoneFrameStartIsTaken() ? takeOver() : state;
    }

    /**
     * Tomcat is done with the connection ({@code how}, for the error): a detach under way fails. After a
     * hand-over Tomcat no longer knows the connection.
     */
    void endedByTomcat(String how) {
        core.onTransportClosed(how, null);
    }

    /** From now on the core reads: first what Tomcat read and did not parse, from {@link #takeOverAt}. */
    private SocketState takeOver() {
        coreReads = true;
        input.position(takeOverAt);
        core.onInbound(input);
        return readForCore();
    }

    private SocketState readForCore() {
        ByteBuffer buffer = input;
        try {
            while (!stopReading) {
                buffer.clear();
                int n = socket.read(false, buffer);
                if (n < 0) {
                    core.onTransportClosed("end of stream", null);
                    return SocketState.CLOSED;
                }
                if (n == 0) {
                    // Tomcat asks the poller for the next read event.
                    return SocketState.UPGRADED;
                }
                core.onInbound(buffer.flip());
            }
        } catch (IOException e) {
            core.onTransportClosed(e.toString(), e);
            return SocketState.CLOSED;
        }
        // Decrypted bytes the wrapper read ahead are the detached connection's too.
        SocketBufferHandler buffers = socket.getSocketBufferHandler();
        buffers.configureReadBufferForRead();
        ByteBuffer readAhead = buffers.getReadBuffer();
        if (readAhead.hasRemaining()) {
            core.onInbound(readAhead);
        }
        core.readsStopped();
        // Parked: Tomcat registers no more interest in the socket.
        return SocketState.SUSPENDED;
    }

    // ---- ContainerConnection ----

    @Override
    public void deliver(ByteBuffer bytes) {
        // Tomcat reads the network itself; the core takes the stream from a frame start on, and gives back none.
        throw new IllegalStateException("Tomcat parses its frames itself");
    }

    @Override
    public void write(ByteBuffer frame, Consumer<Throwable> done) {
        // A server's close frame: two header bytes (no mask, a length below 126), then the payload.
        ByteBuffer payload = frame.duplicate().position(frame.position() + 2);
        CompletableFuture<Void> written = new CompletableFuture<>();
        lastWrite = written;
        ourFrame = payload;
        try {
            flushBatchedMessages();
            TomcatInternals.queue(handler, (byte) WebSocketProtocol.OPCODE_CLOSE, payload, result -> {
                written.complete(null);
                done.accept(result.isOK() ? null : result.getException());
            });
        } catch (IOException | RuntimeException e) {
            written.complete(null);
            done.accept(e);
        }
    }

    /**
     * Writes the messages Tomcat holds back for a session that allows batching: they passed the gate before
     * the detach, and go before our close frame, as Tomcat's own close flushes them before its close frame.
     * Blocking, as in Tomcat's close.
     */
    private void flushBatchedMessages() throws IOException {
        WsSession current = session;
        if (current != null && current.getAsyncRemote().getBatchingAllowed()) {
            current.getAsyncRemote().setBatchingAllowed(false);
        }
    }

    @Override
    public void stopReading() {
        stopReading = true;
    }

    @Override
    public void closeSession(CloseReason reason) {
        WsSession closing = session;
        // Tomcat would close the connection if the peer did not close within this; the detach has its own deadline.
        closing.getUserProperties().put(SESSION_CLOSE_TIMEOUT, (long) Integer.MAX_VALUE);
        sessionCloseReason = reason;
        // @OnClose runs; Tomcat's close frame is swallowed by the gate, and the socket stays open.
        closing.doClose(reason, reason, false);
        if (!coreReads) {
            // Tomcat's reader is to read no further than the end of its frame: a read error after it is the
            // core's to report, with its cause.
            closing.suspend();
        }
        core.sessionClosed();
    }

    @Override
    public void closeTransport() {
        lastWrite.whenComplete((ignored, error) -> {
            WsSession closing = session;
            if (closing != null) {
                closing.onClose(new CloseReason(CloseCodes.CLOSED_ABNORMALLY, "detach failed"));
            }
            socket.close();
        });
    }

    @Override
    public Transport release() {
        SocketChannel raw = channel.getIOChannel();
        TomcatInternals.forget(socket, raw);
        // Out of the connector's upgrade statistics, as Tomcat's close of the upgrade processor takes it out (with
        // its counts kept as those of a completed connection): else each detach would leave it listed for good.
        handler.getUpgradeInfo().setGroupInfo(null);
        // Tomcat's poller holds its registration, with the socket wrapper as its attachment, until the socket closes:
        // for a detached connection, for as long as it lives, and with it the wrapper, its buffers, the upgrade
        // handler and the session. The core's own registration is with another selector. (Only a NIO socket has a
        // channel, and only a connection with one is ever released.)
        SelectionKey tomcats = raw.keyFor(((NioEndpoint.NioSocketWrapper) socket).getPoller().getSelector());
        if (tomcats != null) {
            tomcats.cancel();
        }
        // Fully closed for Tomcat now: out of the open sessions, its socket close a no-op.
        session.onClose(sessionCloseReason);
        if (channel instanceof SecureNioChannel) {
            SecureNioChannel tls = (SecureNioChannel) channel;
            return Transport.tls(raw, tls.getSslEngine(), TomcatInternals.undecrypted(tls), null, () -> { });
        }
        return Transport.plain(raw, null, () -> { });
    }

    @Override
    public String sessionId() {
        WsSession opened = session;
        return opened == null ? null : opened.getId();
    }

    @Override
    public String containerName() {
        return "Tomcat";
    }

    @Override
    public boolean secure() {
        return channel instanceof SecureNioChannel;
    }

    @Override
    public String toString() {
        return "Tomcat connection " + peer;
    }
}
