package org.wsdetach.tyrus;

import jakarta.websocket.CloseReason;
import org.glassfish.grizzly.EmptyCompletionHandler;
import org.glassfish.grizzly.Grizzly;
import org.glassfish.grizzly.WriteResult;
import org.glassfish.grizzly.asyncqueue.AsyncQueueEnabledTransport;
import org.glassfish.grizzly.attributes.Attribute;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.grizzly.http.HttpServerFilter;
import org.glassfish.grizzly.memory.Buffers;
import org.glassfish.grizzly.nio.NIOConnection;
import org.glassfish.grizzly.ssl.SSLUtils;
import org.glassfish.tyrus.spi.CompletionHandler;
import org.glassfish.tyrus.spi.Connection;
import org.glassfish.tyrus.spi.ReadHandler;
import org.glassfish.tyrus.spi.WebSocketEngine.UpgradeInfo;
import org.glassfish.tyrus.spi.Writer;
import org.glassfish.tyrus.spi.WriterInfo;
import org.wsdetach.core.ContainerConnection;
import org.wsdetach.core.ContainerWrite;
import org.wsdetach.core.DetachThreads;
import org.wsdetach.core.DetachableConnection;
import org.wsdetach.core.Transport;

import javax.net.ssl.SSLEngine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One upgraded WebSocket connection, standing between Tyrus and Grizzly: the Tyrus glue of a
 * {@link DetachableConnection}. Every byte Grizzly reads goes through {@link #handle} to the core, which
 * passes it on to Tyrus' reader ({@link #deliver}); every frame Tyrus writes goes through
 * {@link GuardedWriter} to the core, which passes it on to Grizzly while the connection is Tyrus'. Reads
 * stop by suspending the Grizzly read event that brought the peer's close frame: Grizzly re-enables read
 * interest only when an event completes, so the bytes behind it stay in the socket.
 *
 * <p>It serves the connections of Tyrus' server and of its client alike, {@code ws} and {@code wss}: a
 * {@code wss} hand-over takes the SSL engine and the bytes Grizzly's SSL filter had not decrypted out of
 * Grizzly ({@link TyrusInternals#takeUndecrypted}), so that the core drives TLS from then on.
 */
final class TyrusConnection implements Connection, ReadHandler, ContainerConnection {

    private static final Attribute<TyrusConnection> ATTRIBUTE =
            Grizzly.DEFAULT_ATTRIBUTE_BUILDER.createAttribute(TyrusConnection.class.getName());
    /** The connection whose session Tyrus is opening on this thread; see {@link SessionTracker}. */
    private static final ThreadLocal<TyrusConnection> OPENING = new ThreadLocal<>();
    /** The connection whose detach is closing Tyrus' session on this thread. */
    private static final ThreadLocal<TyrusConnection> CLOSING_FOR_DETACH = new ThreadLocal<>();

    private final org.glassfish.grizzly.Connection<?> transport;
    private final Writer transportWriter;
    private final boolean client;
    private final GuardedWriter guardedWriter = new GuardedWriter();
    private final DetachableConnection core;

    private volatile Connection tyrus;
    private volatile ReadHandler tyrusReader;
    /** The connection's TLS engine, or null for plain {@code ws}. */
    private final SSLEngine tls;
    /** Set by the core on the reading thread; acted on when the read event is over. */
    private boolean stopReading;
    /** What Grizzly's SSL filter had read but not decrypted when reads stopped. */
    private volatile ByteBuffer undecrypted;
    // Guarded by this.
    /** A detach from {@code @OnOpen}: Tyrus' session can only be closed once it exists. */
    private CloseReason closeWhenAttached;
    /** Learnt when Tyrus opens the session (server) or when it is first detached (client). */
    private volatile String sessionId;

    private TyrusConnection(org.glassfish.grizzly.Connection<?> transport, Writer transportWriter, boolean client,
                            DetachThreads threads) {
        this.transport = transport;
        this.transportWriter = transportWriter;
        this.client = client;
        this.tls = SSLUtils.getSSLEngine(transport);
        this.core = client ? DetachableConnection.forClient(this, threads) : DetachableConnection.forServer(this, threads);
    }

    /** Creates Tyrus' server connection behind a new instance; plain Tyrus if the transport is unknown. */
    static Connection open(UpgradeInfo upgrade, Writer writer, Connection.CloseListener closeListener,
                           org.glassfish.grizzly.Connection<?> transport, DetachThreads threads) {
        if (transport == null) {
            return upgrade.createConnection(writer, closeListener);
        }
        TyrusConnection connection = new TyrusConnection(transport, writer, false, threads);
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
    static TyrusConnection forClient(org.glassfish.grizzly.Connection<?> transport, Writer writer) {
        return new TyrusConnection(transport, writer, true, DetachThreads.forClients());
    }

    /** Runs {@code step}, in which Tyrus opens this connection's session and runs {@code @OnOpen}. */
    <T> T opening(Supplier<T> step) {
        OPENING.set(this);
        try {
            return step.get();
        } finally {
            OPENING.remove();
        }
    }

    /** The connection behind {@code writer}, if Tyrus was given the writer of one. */
    static TyrusConnection ofWriter(Object writer) {
        return writer instanceof GuardedWriter ? ((GuardedWriter) writer).owner() : null;
    }

    static TyrusConnection opening() {
        return OPENING.get();
    }

    DetachableConnection core() {
        return core;
    }

    /** Tyrus has opened session {@code id} on this connection. */
    void sessionOpened(String id) {
        sessionId = id;
    }

    void attach(Connection tyrusConnection) {
        tyrusReader = tyrusConnection.getReadHandler();
        tyrus = tyrusConnection;
        ATTRIBUTE.set(transport, this);
        transport.closeFuture().addCompletionHandler(new EmptyCompletionHandler<>() {
            @Override
            public void completed(org.glassfish.grizzly.CloseReason reason) {
                core.onTransportClosed(reason.getType().toString(), reason.getCause());
            }
        });
        CloseReason pending;
        synchronized (this) {
            pending = closeWhenAttached;
        }
        if (pending != null) {
            closeTyrus(pending);
        }
    }

    /**
     * Handles a read event for the WebSocket filter of a server or client around Tyrus' own handling:
     * the event that brought the peer's close frame to a detach is suspended for good.
     */
    static NextAction handleRead(FilterChainContext event, TyrusRead tyrusRead) throws IOException {
        NextAction next = tyrusRead.handle();
        TyrusConnection connection = ATTRIBUTE.get(event.getConnection());
        if (connection != null && connection.stopReading) {
            connection.stopReading = false;
            event.suspend();
            if (connection.tls != null) {
                connection.undecrypted = TyrusInternals.takeUndecrypted(event);
            }
            connection.core.readsStopped();
            return event.getSuspendAction();
        }
        return next;
    }

    /** Tyrus' own handling of a read event, by its WebSocket filter. */
    interface TyrusRead {
        NextAction handle() throws IOException;
    }

    /** Whether Tyrus is closing a session on this thread because it detaches; see DetachAwareReconnectHandler. */
    static boolean closingForDetach() {
        return CLOSING_FOR_DETACH.get() != null;
    }

    // ---- ReadHandler: Grizzly's bytes, through Tyrus' filter ----

    @Override
    public void handle(ByteBuffer data) {
        core.onInbound(data);
    }

    // ---- ContainerConnection ----

    @Override
    public void deliver(ByteBuffer bytes) {
        tyrusReader.handle(bytes);
    }

    /** Whether a detach must take a TLS session out of Grizzly: checked before one starts. */
    @Override
    public boolean secure() {
        return tls != null;
    }

    @Override
    public String containerName() {
        return "Tyrus";
    }

    @Override
    public void write(ByteBuffer frame, Consumer<Throwable> done) {
        transportWriter.write(frame, new CompletionHandler<>() {
            @Override
            public void completed(ByteBuffer written) {
                if (tls == null) {
                    done.accept(null);
                } else {
                    flushBelowTls(done);
                }
            }

            @Override
            public void failed(Throwable error) {
                done.accept(error);
            }
        });
    }

    /**
     * Waits for Grizzly's write queue to be empty: records its SSL filter queued on its own after our close
     * frame (the reply to a TLS key update) must be on the wire before the core writes the next ones. An
     * empty buffer written below the SSL filter completes once everything queued before it is written.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private void flushBelowTls(Consumer<Throwable> done) {
        ((AsyncQueueEnabledTransport) transport.getTransport()).getAsyncQueueIO().getWriter().write(
                (org.glassfish.grizzly.Connection) transport, Buffers.EMPTY_BUFFER,
                new EmptyCompletionHandler<WriteResult<?, ?>>() {
                    @Override
                    public void completed(WriteResult<?, ?> result) {
                        done.accept(null);
                    }

                    @Override
                    public void failed(Throwable error) {
                        done.accept(error);
                    }
                });
    }

    @Override
    public void stopReading() {
        stopReading = true;
    }

    @Override
    public void closeSession(CloseReason reason) {
        synchronized (this) {
            if (tyrus == null) {
                closeWhenAttached = reason;
                return;
            }
        }
        closeTyrus(reason);
    }

    private void closeTyrus(CloseReason reason) {
        CLOSING_FOR_DETACH.set(this);
        try {
            tyrus.close(reason);
        } finally {
            CLOSING_FOR_DETACH.remove();
        }
        core.sessionClosed();
    }

    @Override
    public void closeTransport() {
        // Through Tyrus' writer, so that a close frame still queued goes out before the FIN.
        try {
            transportWriter.close();
        } catch (IOException e) {
            transport.terminateSilently();
        }
    }

    @Override
    public Transport release() {
        SocketChannel channel = (SocketChannel) ((NIOConnection) transport).getChannel();
        // A Tyrus client's writer also shuts down the client's own Grizzly transport.
        Runnable onClose = client ? this::closeTransport : transport::terminateSilently;
        if (!client) {
            // Grizzly keeps the upgrade request in process for as long as the connection lives, the WebSocket
            // frames having been its content: some 10 KB a connection, which nothing reads once Grizzly reads no
            // more, and which the Grizzly connection that unwrap gives would keep reachable.
            transport.getAttributes().removeAttribute(HttpServerFilter.HTTP_SERVER_REQUEST_ATTR_NAME);
        }
        // The channel stays registered with Grizzly's selector, without interest: the suspended read event
        // never completes, which is what would make Grizzly ask for reads again.
        return tls == null ? Transport.plain(channel, transport, onClose)
                : Transport.tls(channel, tls, undecrypted, transport, onClose);
    }

    @Override
    public String sessionId() {
        return sessionId;
    }

    @Override
    public String toString() {
        return (client ? "Tyrus client connection " : "Tyrus server connection ") + transport.getPeerAddress();
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

    /** Tyrus' writer, through the core: see {@link DetachableConnection#onContainerWrite}. */
    private final class GuardedWriter extends Writer {

        TyrusConnection owner() {
            return TyrusConnection.this;
        }

        @Override
        public void write(ByteBuffer buffer, CompletionHandler<ByteBuffer> completion) {
            write(buffer, completion, null);
        }

        @Override
        public void write(ByteBuffer buffer, CompletionHandler<ByteBuffer> completion, WriterInfo info) {
            ContainerWrite verdict = core.onContainerWrite(buffer, () -> {
                if (info == null) {
                    transportWriter.write(buffer, completion);
                } else {
                    transportWriter.write(buffer, completion, info);
                }
            });
            if (completion == null) {
                return;
            }
            if (verdict == ContainerWrite.SWALLOWED) {
                completion.completed(buffer);
            } else if (verdict == ContainerWrite.REFUSED) {
                completion.failed(new IllegalStateException("the session has been detached"));
            }
        }

        @Override
        public void close() throws IOException {
            if (core.onContainerReleases()) {
                transportWriter.close();
            }
        }
    }
}
