package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import org.wsdetach.DetachedConnection;

import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.ReadPendingException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritePendingException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

/**
 * A {@link DetachedConnection} over a non-blocking {@link SocketChannel}, served by an {@link IoLoop}.
 *
 * <p>An operation is first tried on the thread that starts it; only when the channel has nothing to give
 * (or no room to take) does it wait for the loop's selector, and it then completes on the loop thread.
 * Handlers that complete at once run on the starting thread, up to a bounded nesting depth (see
 * {@link Completions}).
 *
 * <p>Reads are served first from the bytes received before the hand-over, then from the channel, and
 * only while a read is pending: nothing is read ahead, so a handler that stops reading stops the peer
 * through TCP flow control.
 *
 * <p>A write completes once at least one byte was written and reports how many, like
 * {@link java.nio.channels.AsynchronousSocketChannel}; the exception is a write that is pending when
 * {@link #shutdownOutput()} is called: it goes on until its whole buffer is written, then the output is
 * shut down, then its handler runs, so that no byte of it is cut off by the shutdown.
 *
 * <p>The {@code Future} returned by {@link #read(ByteBuffer)} and {@link #write(ByteBuffer)} completes
 * on whichever thread completes the operation, so dependent stages of it must not block. Cancelling it
 * does not cancel the I/O operation: the operation stays pending (another one in the same direction
 * throws {@link ReadPendingException} or {@link WritePendingException} until it completes) and the
 * bytes it transfers are lost to the caller.
 *
 * <p>If the loop is closed, the connection is closed with it (pending operations fail with
 * {@link AsynchronousCloseException}); an operation started afterwards fails with
 * {@link ClosedChannelException}.
 *
 * <p>{@link #unwrap} gives the native connection object when it is of the requested type, else the
 * {@link SocketChannel} when that is.
 */
final class NioDetachedConnection implements DetachedConnection, IoLoop.Member {

    private static final System.Logger LOG = System.getLogger(NioDetachedConnection.class.getName());
    /** Outcomes of an attempt, to act on after releasing the lock: the interest changes, or completion. */
    private static final int INTEREST_APPLIED = 0;
    private static final int INTEREST_NEEDS_WAKEUP = 1;
    private static final int INTEREST_KEY_LOST = 2;
    private static final int DONE = 3;

    private final IoLoop loop;
    private final SocketChannel channel;
    private final CloseReason peerCloseReason;
    private final Object nativeConnection;
    private final Runnable onClose;

    /**
     * Guards the fields below, except {@link #initialBytes}. Never held while calling a handler or
     * {@code onClose}.
     */
    private final Object lock = new Object();

    /**
     * Bytes received before the hand-over, {@code null} once consumed. Only the thread running the
     * current read attempt touches it; attempts are ordered by {@link #lock}.
     */
    private ByteBuffer initialBytes;

    private volatile boolean closed;
    /** {@code null} until the loop thread has registered the channel. */
    private SelectionKey key;

    /** Non-null while a read is outstanding; whoever clears it (completion or close) delivers the result. */
    private CompletionHandler<Integer, Object> readHandler;
    private Object readAttachment;
    private ByteBuffer readBuffer;
    /** The pending read found nothing and waits for the selector. */
    private boolean readWaiting;

    private CompletionHandler<Integer, Object> writeHandler;
    private Object writeAttachment;
    private ByteBuffer writeBuffer;
    private boolean writeWaiting;
    /** Bytes written so far by the pending write (more than one attempt only when a shutdown waits). */
    private int writeTotal;
    private boolean shutdownAfterWrite;

    /**
     * @param loop             the loop that serves this connection
     * @param channel          connected and non-blocking; may stay registered with other selectors
     * @param initialBytes     bytes received before the hand-over, in read mode; owned by this connection
     * @param peerCloseReason  the reason from the peer's close frame
     * @param nativeConnection the container's connection object, for {@link #unwrap}; may be {@code null}
     * @param onClose          run once, after {@link #close()} has closed the channel
     */
    NioDetachedConnection(IoLoop loop, SocketChannel channel, ByteBuffer initialBytes,
                          CloseReason peerCloseReason, Object nativeConnection, Runnable onClose) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.channel = Objects.requireNonNull(channel, "channel");
        this.peerCloseReason = Objects.requireNonNull(peerCloseReason, "peerCloseReason");
        this.nativeConnection = nativeConnection;
        this.onClose = Objects.requireNonNull(onClose, "onClose");
        if (channel.isBlocking()) {
            throw new IllegalArgumentException("The channel must be in non-blocking mode");
        }
        this.initialBytes = Objects.requireNonNull(initialBytes, "initialBytes").hasRemaining()
                ? initialBytes : null;
        // Last, so that the loop thread only ever sees a fully constructed connection.
        if (!loop.attach(this) || !loop.execute(this::register)) {
            closeQuietly();
        }
    }

    @Override
    public CloseReason peerCloseReason() {
        return peerCloseReason;
    }

    @Override
    public Optional<SSLSession> sslSession() {
        return Optional.empty();
    }

    @Override
    public <T> Optional<T> unwrap(Class<T> type) {
        Objects.requireNonNull(type, "type");
        if (type.isInstance(nativeConnection)) {
            return Optional.of(type.cast(nativeConnection));
        }
        if (type.isInstance(channel)) {
            return Optional.of(type.cast(channel));
        }
        return Optional.empty();
    }

    @Override
    public SocketAddress getLocalAddress() throws IOException {
        ensureOpen();
        return channel.getLocalAddress();
    }

    @Override
    public SocketAddress getRemoteAddress() throws IOException {
        ensureOpen();
        return channel.getRemoteAddress();
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    @Override
    public <A> void read(ByteBuffer dst, A attachment, CompletionHandler<Integer, ? super A> handler) {
        Objects.requireNonNull(dst, "dst");
        Objects.requireNonNull(handler, "handler");
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("Read-only buffer");
        }
        CompletionHandler<Integer, Object> h = Completions.erase(handler);
        boolean started = false;
        boolean wasClosed;
        synchronized (lock) {
            if (readHandler != null) {
                throw new ReadPendingException();
            }
            wasClosed = closed;
            if (!wasClosed && dst.hasRemaining()) {
                readHandler = h;
                readAttachment = attachment;
                readBuffer = dst;
                started = true;
            }
        }
        if (started) {
            attemptRead(dst);
        } else if (wasClosed) {
            complete(h, attachment, 0, new ClosedChannelException());
        } else {
            complete(h, attachment, 0, null);
        }
    }

    @Override
    public Future<Integer> read(ByteBuffer dst) {
        CompletableFuture<Integer> future = new CompletableFuture<>();
        read(dst, future, Completions.TO_FUTURE);
        return future;
    }

    @Override
    public <A> void write(ByteBuffer src, A attachment, CompletionHandler<Integer, ? super A> handler) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(handler, "handler");
        CompletionHandler<Integer, Object> h = Completions.erase(handler);
        boolean started = false;
        boolean wasClosed;
        synchronized (lock) {
            if (writeHandler != null) {
                throw new WritePendingException();
            }
            wasClosed = closed;
            if (!wasClosed && src.hasRemaining()) {
                writeHandler = h;
                writeAttachment = attachment;
                writeBuffer = src;
                writeTotal = 0;
                started = true;
            }
        }
        if (started) {
            attemptWrite(src);
        } else if (wasClosed) {
            complete(h, attachment, 0, new ClosedChannelException());
        } else {
            complete(h, attachment, 0, null);
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
     * <p>With a write pending, the shutdown happens once that write has written its whole buffer, before
     * its handler runs.
     */
    @Override
    public DetachedConnection shutdownOutput() throws IOException {
        synchronized (lock) {
            ensureOpen();
            if (writeHandler != null) {
                shutdownAfterWrite = true;
            } else {
                // Under the lock: no write can be in flight on another thread while output goes away.
                channel.shutdownOutput();
            }
        }
        return this;
    }

    /**
     * Closes the channel, fails the pending operations with {@link AsynchronousCloseException}, then runs
     * {@code onClose} on this thread. Does nothing if already closed.
     *
     * <p>Like {@link java.nio.channels.AsynchronousSocketChannel}, the failed handlers run on the I/O
     * thread, not on the closing one (which may hold locks of its own); only once the loop is closed do
     * they run on the closing thread. {@code onClose} may therefore run before them.
     */
    @Override
    public void close() throws IOException {
        CompletionHandler<Integer, Object> failedRead;
        Object failedReadAttachment;
        CompletionHandler<Integer, Object> failedWrite;
        Object failedWriteAttachment;
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
            clearWrite();
            shutdownAfterWrite = false;
        }
        IOException closeFailure = null;
        try {
            channel.close();
        } catch (IOException e) {
            closeFailure = e;
        }
        loop.detach(this);
        // A registered channel's socket is only released once every selector has dropped its cancelled
        // key, which ours does on its next select.
        if (!loop.inLoop()) {
            loop.wakeup();
        }
        if (failedRead != null) {
            failClosed(failedRead, failedReadAttachment);
        }
        if (failedWrite != null) {
            failClosed(failedWrite, failedWriteAttachment);
        }
        try {
            onClose.run();
        } catch (Throwable t) {
            LOG.log(Level.WARNING, "onClose callback of a detached connection failed", t);
        }
        if (closeFailure != null) {
            throw closeFailure;
        }
    }

    @Override
    public void closeQuietly() {
        try {
            close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "Closing a detached connection failed", e);
        }
    }

    @Override
    public void onReady(int readyOps) {
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            ByteBuffer dst = takeWaitingRead();
            if (dst != null) {
                attemptRead(dst);
            }
        }
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            ByteBuffer src = takeWaitingWrite();
            if (src != null) {
                attemptWrite(src);
            }
        }
    }

    /** Loop thread, once: registers the channel with the interest that pending operations already need. */
    private void register() {
        boolean lost = false;
        synchronized (lock) {
            if (closed) {
                return;
            }
            try {
                key = channel.register(loop.selector(), interestLocked(), this);
            } catch (ClosedChannelException | RuntimeException e) {
                // Closed channel or selector, or a channel put back into blocking mode: this connection
                // can never be served, so it is closed rather than left with operations that hang.
                LOG.log(Level.DEBUG, "Registering a detached connection with the I/O loop failed", e);
                lost = true;
            }
        }
        if (lost) {
            closeQuietly();
        }
    }

    /** The read waiting for readiness, now to be attempted by the loop thread; {@code null} if none. */
    private ByteBuffer takeWaitingRead() {
        int outcome;
        synchronized (lock) {
            if (readHandler != null && readWaiting) {
                readWaiting = false;
                return readBuffer;
            }
            // Interest is dropped lazily, here, rather than after each completion: a handler usually
            // starts the next read right away, which would only have to add it back.
            outcome = updateInterestLocked();
        }
        afterInterestUpdate(outcome);
        return null;
    }

    private ByteBuffer takeWaitingWrite() {
        int outcome;
        synchronized (lock) {
            if (writeHandler != null && writeWaiting) {
                writeWaiting = false;
                return writeBuffer;
            }
            outcome = updateInterestLocked();
        }
        afterInterestUpdate(outcome);
        return null;
    }

    /** Runs on the thread that owns the pending read's attempt: its starter, or the loop thread. */
    private void attemptRead(ByteBuffer dst) {
        int n = 0;
        IOException failure = null;
        try {
            n = transferIn(dst);
        } catch (IOException e) {
            failure = e;
        }
        CompletionHandler<Integer, Object> handler;
        Object attachment = null;
        int outcome;
        synchronized (lock) {
            handler = readHandler;
            if (handler == null) {
                // close() took the operation over and has failed it.
                return;
            }
            if (n == 0 && failure == null) {
                readWaiting = true;
                outcome = updateInterestLocked();
            } else {
                attachment = readAttachment;
                clearRead();
                outcome = DONE;
            }
        }
        if (outcome == DONE) {
            complete(handler, attachment, n, failure);
        } else {
            afterInterestUpdate(outcome);
        }
    }

    private int transferIn(ByteBuffer dst) throws IOException {
        ByteBuffer initial = initialBytes;
        if (initial == null) {
            return channel.read(dst);
        }
        int n = Math.min(initial.remaining(), dst.remaining());
        if (n == initial.remaining()) {
            dst.put(initial);
            initialBytes = null;
        } else {
            int limit = initial.limit();
            initial.limit(initial.position() + n);
            dst.put(initial);
            initial.limit(limit);
        }
        return n;
    }

    /** Runs on the thread that owns the pending write's attempt: its starter, or the loop thread. */
    private void attemptWrite(ByteBuffer src) {
        int n = 0;
        IOException failure = null;
        try {
            n = channel.write(src);
        } catch (IOException e) {
            failure = e;
        }
        CompletionHandler<Integer, Object> handler;
        Object attachment = null;
        int total;
        int outcome;
        synchronized (lock) {
            handler = writeHandler;
            if (handler == null) {
                return;
            }
            writeTotal += n;
            total = writeTotal;
            if (failure == null && (total == 0 || shutdownAfterWrite && src.hasRemaining())) {
                writeWaiting = true;
                outcome = updateInterestLocked();
            } else {
                attachment = writeAttachment;
                clearWrite();
                if (shutdownAfterWrite) {
                    shutdownAfterWrite = false;
                    shutdownOutputQuietly();
                }
                outcome = DONE;
            }
        }
        if (outcome == DONE) {
            complete(handler, attachment, total, failure);
        } else {
            afterInterestUpdate(outcome);
        }
    }

    private void shutdownOutputQuietly() {
        try {
            channel.shutdownOutput();
        } catch (IOException e) {
            // The shutdown was asked for earlier and cannot be reported as such any more; a broken
            // connection shows up in the next read or write anyway.
            LOG.log(Level.DEBUG, "Deferred output shutdown of a detached connection failed", e);
        }
    }

    private void clearRead() {
        readHandler = null;
        readAttachment = null;
        readBuffer = null;
        readWaiting = false;
    }

    private void clearWrite() {
        writeHandler = null;
        writeAttachment = null;
        writeBuffer = null;
        writeWaiting = false;
        writeTotal = 0;
    }

    private int interestLocked() {
        return (readWaiting ? SelectionKey.OP_READ : 0) | (writeWaiting ? SelectionKey.OP_WRITE : 0);
    }

    /** Makes the key's interest match the waiting operations; the caller acts on the outcome unlocked. */
    private int updateInterestLocked() {
        if (key == null || closed) {
            // Not registered yet: register() applies the interest then.
            return INTEREST_APPLIED;
        }
        int ops = interestLocked();
        try {
            if (key.interestOps() == ops) {
                return INTEREST_APPLIED;
            }
            key.interestOps(ops);
        } catch (CancelledKeyException e) {
            // The channel was closed behind our back (through unwrap) or the loop is going away.
            return INTEREST_KEY_LOST;
        }
        // Outside the loop thread the change must interrupt a select already in progress.
        return loop.inLoop() ? INTEREST_APPLIED : INTEREST_NEEDS_WAKEUP;
    }

    private void afterInterestUpdate(int outcome) {
        if (outcome == INTEREST_NEEDS_WAKEUP) {
            loop.wakeup();
        } else if (outcome == INTEREST_KEY_LOST) {
            closeQuietly();
        }
    }

    private void failClosed(CompletionHandler<Integer, Object> handler, Object attachment) {
        AsynchronousCloseException failure = new AsynchronousCloseException();
        if (loop.inLoop() || !loop.execute(() -> Completions.invoke(handler, attachment, 0, failure))) {
            complete(handler, attachment, 0, failure);
        }
    }

    private void complete(CompletionHandler<Integer, Object> handler, Object attachment, int result,
                          Throwable failure) {
        Completions.deliver(loop, handler, attachment, result, failure);
    }

    private void ensureOpen() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }

}
