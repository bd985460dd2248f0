package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import org.wsdetach.DetachedConnection;

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
 * A {@link DetachedConnection} over a non-blocking {@link SocketChannel}, served by an {@link IoLoop}: the
 * pending operations, the channel's registration and interest with the loop's selector, and the close,
 * around the attempts its subclasses make on the channel.
 *
 * <p>An operation is first tried on the thread that starts it; only when the channel has nothing to give
 * (or no room to take) does it wait for the loop's selector, and it then completes on the loop thread.
 * Handlers that complete at once run on the starting thread, up to a bounded nesting depth (see
 * {@link Completions}).
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
 * <p>Methods whose names end in {@code Locked} run with {@link #lock} held: they take no other lock, since
 * a subclass's own locks come before it, and run no handler.
 */
abstract class SelectableDetachedConnection implements DetachedConnection, IoLoop.Member {

    /** Outcomes of an attempt, to act on after releasing the lock: the interest changes, or completion. */
    static final int INTEREST_APPLIED = 0;
    private static final int INTEREST_NEEDS_WAKEUP = 1;
    private static final int INTEREST_KEY_LOST = 2;
    static final int DONE = 3;
    private static final int INTEREST_NEEDS_REGISTRATION = 4;

    /** One for all connections: looking a logger up for each would cost every hand-over time and heap. */
    private static final System.Logger LOG = System.getLogger(SelectableDetachedConnection.class.getName());
    private final IoLoop loop;
    final SocketChannel channel;
    private final CloseReason peerCloseReason;
    private final Object nativeConnection;
    private final Runnable onClose;

    /**
     * Guards the fields below, and those of the subclasses not marked otherwise. Never held while calling
     * a handler or {@code onClose}.
     */
    final Object lock = new Object();

    volatile boolean closed;
    /** {@code null} until the loop thread has registered the channel. */
    private SelectionKey key;
    /**
     * Whether the loop has been asked to register the channel: only once an operation first waits for it, so
     * that the hand-over and the operations that need not wait never wake the loop thread.
     */
    private boolean registrationAsked;

    /** Non-null while a read is outstanding; whoever clears it (completion or close) delivers the result. */
    private CompletionHandler<Integer, Object> readHandler;
    private Object readAttachment;
    private ByteBuffer readBuffer;
    /** The pending read found nothing and waits for the selector. */
    private boolean readWaiting;

    /** Non-null while a write is outstanding; whoever clears it (completion or close) delivers the result. */
    CompletionHandler<Integer, Object> writeHandler;
    Object writeAttachment;
    ByteBuffer writeBuffer;
    /** Something waits for room in the channel, for the loop thread to write ({@link #writableLocked}). */
    boolean writeWaiting;

    /**
     * @param loop             the loop that serves this connection
     * @param channel          connected and non-blocking; may stay registered with other selectors
     * @param peerCloseReason  the reason from the peer's close frame
     * @param nativeConnection the container's connection object, for {@link #unwrap}; may be {@code null}
     * @param onClose          run once, after {@link #close()} has closed the channel
     */
    SelectableDetachedConnection(IoLoop loop, SocketChannel channel, CloseReason peerCloseReason,
                                 Object nativeConnection, Runnable onClose) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.channel = Objects.requireNonNull(channel, "channel");
        this.peerCloseReason = Objects.requireNonNull(peerCloseReason, "peerCloseReason");
        this.nativeConnection = nativeConnection;
        this.onClose = Objects.requireNonNull(onClose, "onClose");
        if (channel.isBlocking()) {
            throw new IllegalArgumentException("The channel must be in non-blocking mode");
        }
    }

    /**
     * Hands the connection over to its loop, which closes it if the loop closes; the loop registers the channel
     * once an operation first waits. Last in a subclass's constructor, so that the loop thread only ever sees a
     * fully constructed connection.
     */
    final void joinLoop() {
        // A channel closed already can never be served: closed now, as registering it would find.
        if (!loop.attach(this) || !channel.isOpen()) {
            closeQuietly();
        }
    }

    // ------------------------------------------------------------------------------ for the subclasses

    /**
     * The read attempt: moves into {@code dst}, which has room, what can be had without waiting, reading
     * the channel only when it must.
     *
     * <p>Runs on the thread that owns the pending read's attempt, its starter or the loop thread, without
     * {@link #lock}; attempts are ordered by {@link #lock}, so that state only they touch needs no lock.
     *
     * @return the number of bytes moved, {@code 0} to wait for the channel, {@code -1} at the end of the
     *         stream
     */
    abstract int transferIn(ByteBuffer dst) throws IOException;

    /**
     * A write was just made pending: returns what its starter runs next, without {@link #lock}, to attempt
     * it.
     */
    abstract Runnable writeStartedLocked();

    /**
     * The selector found room in the channel for what waited ({@link #writeWaiting}, now cleared): returns
     * what the loop thread runs next, without {@link #lock}, to write it.
     */
    abstract Runnable writableLocked();

    /** The pending write was just cleared ({@link #clearWrite()}): clears what the subclass kept of it. */
    abstract void writeClearedLocked();

    /**
     * Whether writes fail with {@link ClosedChannelException} while the connection is open. None do unless
     * a subclass says so: after {@link #shutdownOutput()} the channel itself fails them.
     */
    boolean refusesWritesLocked() {
        return false;
    }

    /**
     * Whether {@code failure} of an attempt leaves the connection unusable, in which case it is closed
     * before the failed operation's handler runs, so that the handler finds it as unusable as it is. None
     * does unless a subclass says so: the channel's own failures are the handler's to act on.
     */
    boolean isFatal(IOException failure) {
        return false;
    }

    /** What {@link #unwrap} offers after the native connection object and before the channel, if anything. */
    Object unwrapLayer() {
        return null;
    }

    // ---------------------------------------------------------------------------------------- public

    @Override
    public final CloseReason peerCloseReason() {
        return peerCloseReason;
    }

    @Override
    public final <T> Optional<T> unwrap(Class<T> type) {
        Objects.requireNonNull(type, "type");
        if (type.isInstance(nativeConnection)) {
            return Optional.of(type.cast(nativeConnection));
        }
        Object layer = unwrapLayer();
        if (type.isInstance(layer)) {
            return Optional.of(type.cast(layer));
        }
        if (type.isInstance(channel)) {
            return Optional.of(type.cast(channel));
        }
        return Optional.empty();
    }

    @Override
    public final SocketAddress getLocalAddress() throws IOException {
        ensureOpen();
        return channel.getLocalAddress();
    }

    @Override
    public final SocketAddress getRemoteAddress() throws IOException {
        ensureOpen();
        return channel.getRemoteAddress();
    }

    @Override
    public final boolean isOpen() {
        return !closed;
    }

    @Override
    public final <A> void read(ByteBuffer dst, A attachment, CompletionHandler<Integer, ? super A> handler) {
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
        } else {
            complete(h, attachment, 0, wasClosed ? new ClosedChannelException() : null);
        }
    }

    @Override
    public final Future<Integer> read(ByteBuffer dst) {
        CompletableFuture<Integer> future = new CompletableFuture<>();
        read(dst, future, Completions.TO_FUTURE);
        return future;
    }

    @Override
    public final <A> void write(ByteBuffer src, A attachment, CompletionHandler<Integer, ? super A> handler) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(handler, "handler");
        CompletionHandler<Integer, Object> h = Completions.erase(handler);
        Runnable attempt = null;
        boolean refused;
        synchronized (lock) {
            if (writeHandler != null) {
                throw new WritePendingException();
            }
            refused = closed || refusesWritesLocked();
            if (!refused && src.hasRemaining()) {
                writeHandler = h;
                writeAttachment = attachment;
                writeBuffer = src;
                attempt = writeStartedLocked();
            }
        }
        if (attempt != null) {
            attempt.run();
        } else {
            complete(h, attachment, 0, refused ? new ClosedChannelException() : null);
        }
    }

    @Override
    public final Future<Integer> write(ByteBuffer src) {
        CompletableFuture<Integer> future = new CompletableFuture<>();
        write(src, future, Completions.TO_FUTURE);
        return future;
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
    public final void close() throws IOException {
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
    public final void closeQuietly() {
        try {
            close();
        } catch (IOException e) {
            LOG.log(Level.DEBUG, "Closing a detached connection failed", e);
        }
    }

    @Override
    public final void onReady(int readyOps) {
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            ByteBuffer dst = takeWaitingRead();
            if (dst != null) {
                attemptRead(dst);
            }
        }
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            Runnable attempt = takeWaitingWrite();
            if (attempt != null) {
                attempt.run();
            }
        }
    }

    // ---------------------------------------------------------------------------------------- common

    /** Loop thread, once: registers the channel with the interest that pending operations need by then. */
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
            // starts the next operation right away, which would only have to add it back.
            outcome = updateInterestLocked();
        }
        afterInterestUpdate(outcome);
        return null;
    }

    /** What the loop thread runs to write what waited for room in the channel; {@code null} if nothing. */
    private Runnable takeWaitingWrite() {
        int outcome;
        synchronized (lock) {
            if (writeWaiting) {
                writeWaiting = false;
                return writableLocked();
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
            if (failure != null && isFatal(failure)) {
                closeQuietly();
            }
            complete(handler, attachment, n, failure);
        } else {
            afterInterestUpdate(outcome);
        }
    }

    private void clearRead() {
        readHandler = null;
        readAttachment = null;
        readBuffer = null;
        readWaiting = false;
    }

    /**
     * Forgets the pending write, whose handler is now the caller's to run. Every write ends here, completed
     * or failed, so the next one starts from cleared state.
     */
    final void clearWrite() {
        writeHandler = null;
        writeAttachment = null;
        writeBuffer = null;
        writeClearedLocked();
    }

    private int interestLocked() {
        return (readWaiting ? SelectionKey.OP_READ : 0) | (writeWaiting ? SelectionKey.OP_WRITE : 0);
    }

    /** Makes the key's interest match the waiting operations; the caller acts on the outcome unlocked. */
    final int updateInterestLocked() {
        int ops = interestLocked();
        if (key == null || closed) {
            // Not registered yet: register() applies the interest then, once asked for.
            if (closed || registrationAsked || ops == 0) {
                return INTEREST_APPLIED;
            }
            registrationAsked = true;
            return INTEREST_NEEDS_REGISTRATION;
        }
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

    final void afterInterestUpdate(int outcome) {
        if (outcome == INTEREST_NEEDS_WAKEUP) {
            loop.wakeup();
        } else if (outcome == INTEREST_NEEDS_REGISTRATION) {
            if (!loop.execute(this::register)) {
                closeQuietly();
            }
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

    final void complete(CompletionHandler<Integer, Object> handler, Object attachment, int result,
                        Throwable failure) {
        Completions.deliver(loop, handler, attachment, result, failure);
    }

    final void ensureOpen() throws ClosedChannelException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }
}
