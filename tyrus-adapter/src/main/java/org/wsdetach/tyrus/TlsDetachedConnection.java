package org.wsdetach.tyrus;

import jakarta.websocket.CloseReason;
import org.glassfish.grizzly.Buffer;
import org.glassfish.grizzly.EmptyCompletionHandler;
import org.glassfish.grizzly.WriteResult;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.grizzly.http.HttpContent;
import org.glassfish.grizzly.memory.Buffers;
import org.glassfish.grizzly.nio.NIOConnection;
import org.glassfish.grizzly.nio.transport.TCPNIOTransport;
import org.wsdetach.DetachedConnection;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.ReadPendingException;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritePendingException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

/**
 * A detached {@code wss} connection. Its TLS session lives in Grizzly's SSL filter, so, unlike
 * {@link NioDetachedConnection}, it keeps using Grizzly's filter chain: reads arrive decrypted through
 * {@link DetachingServerFilter}, writes go down through the SSL filter.
 *
 * <p>Back-pressure: what a pending read cannot take is kept together with its Grizzly read event, held
 * suspended so that Grizzly reads nothing more until a read has drained it. At most one read's worth of
 * bytes is buffered.
 *
 * <p>Output shutdown writes TLS {@code close_notify} straight to Grizzly's write queue, behind everything
 * already written, then half-closes TCP. Grizzly consumes a {@code close_notify} from the peer without
 * telling the filters above it, so the peer's end of the stream is seen when TCP ends with it, as JDK
 * {@code SSLSocket}'s {@code close()} and {@code shutdownOutput()} both do; a {@code close_notify} on a TCP
 * connection the peer keeps open goes unseen.
 */
final class TlsDetachedConnection implements DetachedConnection {

    private static final System.Logger LOG = System.getLogger(TlsDetachedConnection.class.getName());

    private final IoLoop loop;
    private final org.glassfish.grizzly.Connection<?> transport;
    private final SSLEngine engine;
    private final CloseReason peerCloseReason;
    /** Closes the transport: gracefully, so that what is queued goes out first. */
    private final Runnable release;

    private final Object lock = new Object();
    // Guarded by lock.
    /** Bytes that came with the peer's close frame; null once read. */
    private ByteBuffer initialBytes;
    /** Bytes of a later Grizzly read not read yet; null if none. */
    private Buffer chunk;
    /** The suspended read event that brought what is kept; released once that is drained. */
    private FilterChainContext heldEvent;
    private CompletionHandler<Integer, Object> readHandler;
    private Object readAttachment;
    private ByteBuffer readBuffer;
    private boolean endOfStream;
    private CompletionHandler<Integer, Object> writeHandler;
    private Object writeAttachment;
    private boolean shutdownAfterWrite;
    private boolean outputShut;
    private volatile boolean closed;

    /**
     * @param heldEvent the suspended read event that brought the peer's close frame and
     *                  {@code initialBytes}
     */
    TlsDetachedConnection(IoLoop loop, org.glassfish.grizzly.Connection<?> transport, SSLEngine engine,
                          ByteBuffer initialBytes, CloseReason peerCloseReason, FilterChainContext heldEvent,
                          Runnable release) {
        this.loop = loop;
        this.release = release;
        this.transport = transport;
        this.engine = engine;
        this.peerCloseReason = peerCloseReason;
        this.initialBytes = initialBytes.hasRemaining() ? initialBytes : null;
        this.heldEvent = heldEvent;
    }

    @Override
    public CloseReason peerCloseReason() {
        return peerCloseReason;
    }

    @Override
    public Optional<SSLSession> sslSession() {
        return Optional.of(engine.getSession());
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        ensureOpen();
        return (SocketAddress) transport.getLocalAddress();
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        ensureOpen();
        return (SocketAddress) transport.getPeerAddress();
    }

    @Override
    public <T> Optional<T> unwrap(Class<T> type) {
        Objects.requireNonNull(type, "type");
        for (Object candidate : new Object[]{transport, engine, ((NIOConnection) transport).getChannel()}) {
            if (type.isInstance(candidate)) {
                return Optional.of(type.cast(candidate));
            }
        }
        return Optional.empty();
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    // ---- reading ----

    @Override
    public <A> void read(ByteBuffer dst, A attachment, CompletionHandler<Integer, ? super A> handler) {
        Objects.requireNonNull(dst, "dst");
        Objects.requireNonNull(handler, "handler");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("Read-only buffer");
        }
        CompletionHandler<Integer, Object> h = Completions.erase(handler);
        int result;
        Throwable failure = null;
        FilterChainContext drained;
        synchronized (lock) {
            if (readHandler != null) {
                throw new ReadPendingException();
            }
            if (closed) {
                result = 0;
                failure = new ClosedChannelException();
                drained = null;
            } else {
                result = take(dst);
                drained = releaseIfDrained();
                if (result == 0 && dst.hasRemaining()) {
                    if (endOfStream) {
                        result = -1;
                    } else {
                        readHandler = h;
                        readAttachment = attachment;
                        readBuffer = dst;
                        h = null;
                    }
                }
            }
        }
        resume(drained);
        if (h != null) {
            Completions.deliver(loop, h, attachment, result, failure);
        }
    }

    @Override
    public Future<Integer> read(ByteBuffer dst) {
        CompletableFuture<Integer> future = new CompletableFuture<>();
        read(dst, future, Completions.TO_FUTURE);
        return future;
    }

    /** Called by the filter with a read event of this connection: the next decrypted bytes. */
    NextAction onRead(FilterChainContext event) {
        HttpContent content = event.getMessage();
        Buffer bytes = content.getContent();
        content.recycle();
        CompletionHandler<Integer, Object> handler = null;
        Object attachment = null;
        int result = 0;
        NextAction next;
        synchronized (lock) {
            if (closed || !bytes.hasRemaining()) {
                bytes.tryDispose();
                return event.getStopAction();
            }
            chunk = bytes;
            if (readHandler != null) {
                handler = readHandler;
                attachment = readAttachment;
                result = take(readBuffer);
                clearRead();
            }
            if (chunk != null) {
                heldEvent = event;
                event.suspend();
                next = event.getSuspendAction();
            } else {
                next = event.getStopAction();
            }
        }
        if (handler != null) {
            Completions.deliver(loop, handler, attachment, result, null);
        }
        return next;
    }

    /** Called when Grizzly has closed the connection: the peer ended it, or it broke. */
    void onTransportClosed() {
        CompletionHandler<Integer, Object> handler = null;
        Object attachment = null;
        synchronized (lock) {
            endOfStream = true;
            if (readHandler != null) {
                handler = readHandler;
                attachment = readAttachment;
                clearRead();
            }
        }
        if (handler != null) {
            Completions.deliver(loop, handler, attachment, -1, null);
        }
    }

    /** Moves kept bytes into {@code dst}, the initial ones first. */
    private int take(ByteBuffer dst) {
        int taken = 0;
        if (initialBytes != null) {
            int n = Math.min(initialBytes.remaining(), dst.remaining());
            int limit = initialBytes.limit();
            initialBytes.limit(initialBytes.position() + n);
            dst.put(initialBytes);
            initialBytes.limit(limit);
            taken += n;
            if (!initialBytes.hasRemaining()) {
                initialBytes = null;
            }
        }
        if (initialBytes == null && chunk != null && dst.hasRemaining()) {
            int n = Math.min(chunk.remaining(), dst.remaining());
            ByteBuffer window = dst.duplicate();
            window.limit(window.position() + n);
            chunk.get(window);
            dst.position(dst.position() + n);
            taken += n;
            if (!chunk.hasRemaining()) {
                chunk.tryDispose();
                chunk = null;
            }
        }
        return taken;
    }

    private FilterChainContext releaseIfDrained() {
        if (initialBytes != null || chunk != null) {
            return null;
        }
        FilterChainContext event = heldEvent;
        heldEvent = null;
        return event;
    }

    /** Lets Grizzly finish a held read event, which makes it read the connection again. */
    private static void resume(FilterChainContext event) {
        if (event != null) {
            event.resume(event.getStopAction());
        }
    }

    private void clearRead() {
        readHandler = null;
        readAttachment = null;
        readBuffer = null;
    }

    // ---- writing ----

    @Override
    public <A> void write(ByteBuffer src, A attachment, CompletionHandler<Integer, ? super A> handler) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(handler, "handler");
        CompletionHandler<Integer, Object> h = Completions.erase(handler);
        synchronized (lock) {
            if (writeHandler != null) {
                throw new WritePendingException();
            }
            if (!closed && !outputShut && src.hasRemaining()) {
                writeHandler = h;
                writeAttachment = attachment;
                h = null;
            }
        }
        if (h != null) {
            Completions.deliver(loop, h, attachment, 0,
                    closed || outputShut ? new ClosedChannelException() : null);
            return;
        }
        int length = src.remaining();
        int end = src.limit();
        // Grizzly takes the caller's buffer as it is: the bytes are not copied, the write completes when
        // they have been encrypted and written.
        writeThroughChain(Buffers.wrap(transport.getMemoryManager(), src), new EmptyCompletionHandler<WriteResult<?, ?>>() {
            @Override
            public void completed(WriteResult<?, ?> result) {
                src.position(end);
                writeDone(length, null);
            }

            @Override
            public void failed(Throwable error) {
                writeDone(0, error instanceof IOException ? error : new IOException(error));
            }
        });
    }

    private void writeDone(int length, Throwable failure) {
        CompletionHandler<Integer, Object> handler;
        Object attachment;
        synchronized (lock) {
            handler = writeHandler;
            attachment = writeAttachment;
            writeHandler = null;
            writeAttachment = null;
            if (shutdownAfterWrite) {
                shutdownAfterWrite = false;
                shutdownLocked();
            }
        }
        if (handler != null) {
            Completions.deliver(loop, handler, attachment, length, failure);
        }
    }

    @Override
    public Future<Integer> write(ByteBuffer src) {
        CompletableFuture<Integer> future = new CompletableFuture<>();
        write(src, future, Completions.TO_FUTURE);
        return future;
    }

    /**
     * {@inheritDoc}
     *
     * <p>With a write pending, the shutdown happens once that write has completed, before its handler runs.
     */
    @Override
    public DetachedConnection shutdownOutput() throws IOException {
        synchronized (lock) {
            ensureOpen();
            if (writeHandler != null) {
                shutdownAfterWrite = true;
            } else {
                shutdownLocked();
            }
        }
        return this;
    }

    /** Queues TLS close_notify below the SSL filter, behind everything written, then half-closes TCP. */
    private void shutdownLocked() {
        if (outputShut) {
            return;
        }
        outputShut = true;
        ByteBuffer closeNotify = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        try {
            engine.closeOutbound();
            engine.wrap(ByteBuffer.allocate(0), closeNotify);
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "close_notify could not be made; closing instead", e);
            release.run();
            return;
        }
        closeNotify.flip();
        SocketChannel channel = (SocketChannel) ((NIOConnection) transport).getChannel();
        writeBelowTls(Buffers.wrap(transport.getMemoryManager(), closeNotify),
                new EmptyCompletionHandler<WriteResult<?, ?>>() {
                    @Override
                    public void completed(WriteResult<?, ?> result) {
                        try {
                            channel.shutdownOutput();
                        } catch (IOException e) {
                            LOG.log(Level.DEBUG, "TCP half-close after close_notify failed", e);
                        }
                    }
                });
    }

    // Grizzly's write signatures tie the handler's type to the message's; these are plain buffers.
    @SuppressWarnings({"unchecked", "rawtypes"})
    private void writeThroughChain(Buffer bytes, EmptyCompletionHandler<WriteResult<?, ?>> done) {
        ((org.glassfish.grizzly.Connection) transport).write(bytes, (org.glassfish.grizzly.CompletionHandler) done);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void writeBelowTls(Buffer bytes, EmptyCompletionHandler<WriteResult<?, ?>> done) {
        ((TCPNIOTransport) transport.getTransport()).getAsyncQueueIO().getWriter().write(
                (org.glassfish.grizzly.Connection) transport, bytes, (org.glassfish.grizzly.CompletionHandler) done);
    }

    // ---- closing ----

    @Override
    public void close() {
        CompletionHandler<Integer, Object> failedRead;
        Object failedReadAttachment;
        CompletionHandler<Integer, Object> failedWrite;
        Object failedWriteAttachment;
        FilterChainContext held;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            failedRead = readHandler;
            failedReadAttachment = readAttachment;
            failedWrite = writeHandler;
            failedWriteAttachment = writeAttachment;
            clearRead();
            writeHandler = null;
            writeAttachment = null;
            if (chunk != null) {
                chunk.tryDispose();
                chunk = null;
            }
            initialBytes = null;
            held = heldEvent;
            heldEvent = null;
        }
        release.run();
        resume(held);
        if (failedRead != null) {
            Completions.deliver(loop, failedRead, failedReadAttachment, 0, new AsynchronousCloseException());
        }
        if (failedWrite != null) {
            Completions.deliver(loop, failedWrite, failedWriteAttachment, 0, new AsynchronousCloseException());
        }
    }

    private void ensureOpen() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }
}
