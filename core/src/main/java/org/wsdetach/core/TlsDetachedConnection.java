package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import org.wsdetach.DetachedConnection;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import java.io.EOFException;
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
 * A {@link DetachedConnection} for {@code wss}: the {@link SSLEngine} of the WebSocket, taken over after
 * its handshake, driven by this connection over the raw non-blocking {@link SocketChannel} and served by
 * an {@link IoLoop}.
 *
 * <p>The threading model is {@link NioDetachedConnection}'s: an operation is first tried on the thread
 * that starts it; only when the channel has nothing to give (or no room to take) does it wait for the
 * loop's selector, and it then completes on the loop thread. Handlers that complete at once run on the
 * starting thread, up to a bounded nesting depth (see {@link Completions}). Delegated tasks of the engine
 * run inline, on whichever of these threads meets them.
 *
 * <p>Reads are served first from the plaintext the container had decrypted but not consumed, then from the
 * ciphertext it had read but not unwrapped, then from the channel, and only while a read is pending.
 * Beyond what was handed over, this connection holds at most one TLS packet of ciphertext and the plaintext
 * of one record, so a handler that stops reading stops the peer through TCP flow control. A read delivers
 * the plaintext of at most one record; buffers grow only when the session's sizes do.
 *
 * <p>The peer's {@code close_notify} reads as {@code -1}, whether or not TCP ends with it. In TLS 1.3 the
 * output stays open (half-close), and writes go on until {@link #shutdownOutput()}. In TLS 1.2 the JDK
 * engine answers {@code close_notify} with its own and closes its output (the duplex close of RFC 5246
 * 7.2.1): this connection sends that answer, and writes fail with {@link ClosedChannelException} from then
 * on. A TCP end without {@code close_notify} reads as {@code -1} too, as the JDK's {@code SSLSocket} reads
 * it by default, although the peer may have been cut off (truncation); the engine is not told, since
 * {@link SSLEngine#closeInbound()} only throws then, and writing may go on. A TCP end in the middle of a
 * record fails the read with an {@link EOFException} (later reads return {@code -1}); a reset fails it
 * with the {@link IOException} of the channel.
 *
 * <p>A write completes once the records carrying the bytes it reports are entirely written: records are
 * wrapped and written as long as the channel takes them whole; when it takes one only in part, the write
 * waits until the rest of that record is written, then completes. A record is never abandoned half
 * written, since any later byte would corrupt the TLS stream. The messages the engine sends on its own (the
 * answer to a TLS 1.3 {@code KeyUpdate}, the TLS 1.2 {@code close_notify} answer) go out right away when no
 * write is pending, else ahead of the pending write's next record, in the order the engine made them.
 *
 * <p>{@link #shutdownOutput()} is the graceful end: once a pending write has written its whole buffer, it
 * sends {@code close_notify}, then shuts the TCP output down; that pending write's handler runs only then.
 * If the channel has no room for the {@code close_notify} the rest happens on the loop thread later. Writes
 * started after it fail with {@link ClosedChannelException}; reading goes on, and the peer's later bytes
 * and its {@code close_notify} still arrive.
 *
 * <p>After the hand-over the JDK engine handles TLS 1.3 post-handshake messages ({@code NewSessionTicket},
 * {@code KeyUpdate}) itself. In TLS 1.2 any handshake message from the peer starts a renegotiation, which
 * this connection does not carry out: it fails the operation with an {@link SSLException} and closes the
 * connection. So does every other {@link SSLException} (a bad record, a fatal alert from the peer): the
 * engine cannot carry bytes any more after it.
 *
 * <p>{@link #close()} is abortive: it closes the TCP connection without {@code close_notify}, fails the
 * pending operations with {@link AsynchronousCloseException} (their handlers run on the loop thread) and
 * runs {@code onClose} once. If the loop is closed, the connection is closed with it; an operation started
 * afterwards fails with {@link ClosedChannelException}.
 *
 * <p>The {@code Future} returned by {@link #read(ByteBuffer)} and {@link #write(ByteBuffer)} completes on
 * whichever thread completes the operation, so dependent stages of it must not block. Cancelling it does
 * not cancel the I/O operation, as with {@link NioDetachedConnection}.
 *
 * <p>{@link #unwrap} gives the native connection object when it is of the requested type, else the
 * {@link SSLEngine}, else the {@link SocketChannel}.
 */
final class TlsDetachedConnection implements DetachedConnection, IoLoop.Member {

    private static final System.Logger LOG = System.getLogger(TlsDetachedConnection.class.getName());
    /** Outcomes of an attempt, to act on after releasing the lock: the interest changes, or completion. */
    private static final int INTEREST_APPLIED = 0;
    private static final int INTEREST_NEEDS_WAKEUP = 1;
    private static final int INTEREST_KEY_LOST = 2;
    private static final int DONE = 3;
    /** Which pending write a pump may serve: none, whichever (the loop thread), or the one of this number. */
    private static final long NO_WRITE = -1;
    private static final long ANY_WRITE = 0;
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

    /** What the output side does next, once no record is partly written. */
    private enum OutStep { WRAP_WRITE, FINISH_WRITE, WRAP_ENGINE, CLOSE_NOTIFY, SHUTDOWN_TCP, IDLE }

    private final IoLoop loop;
    private final SocketChannel channel;
    private final SSLEngine engine;
    /** Only TLS 1.3 has post-handshake messages; in earlier versions a handshake message is renegotiation. */
    private final boolean postHandshakeMessages;
    private final CloseReason peerCloseReason;
    private final Object nativeConnection;
    private final Runnable onClose;

    /**
     * Guards the fields below that are not marked otherwise. Never held while calling a handler or
     * {@code onClose}; taken inside {@link #outLock}, never the other way round.
     */
    private final Object lock = new Object();
    /** Orders the use of the engine's output with the writing of its records: guards {@link #netOut}. */
    private final Object outLock = new Object();

    /**
     * Ciphertext not unwrapped yet, in write mode. This, {@link #plainIn} and {@link #inputEnded} are only
     * touched by the thread running the current read attempt; attempts are ordered by {@link #lock}.
     */
    private ByteBuffer netIn;
    /** Plaintext not delivered yet, in read mode; unwrapped into only once empty. */
    private ByteBuffer plainIn;
    private boolean inputEnded;

    /** Records wrapped but not written yet, in read mode; guarded by {@link #outLock}. */
    private ByteBuffer netOut;

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
    /** Numbers the writes, so that a write's starter serves only its own write. */
    private long writeNumber;
    /** Source bytes the pending write has had wrapped so far. */
    private int writeConsumed;
    /** The channel took a record of the pending write only in part: the write ends at the next boundary. */
    private boolean writeStalled;
    /** Records wait for the channel to take them (whether or not a write is pending). */
    private boolean writeWaiting;
    private boolean shutdownRequested;
    private boolean outputShut;

    /**
     * @param loop             the loop that serves this connection
     * @param channel          connected and non-blocking; may stay registered with other selectors
     * @param engine           the engine of the connection, its handshake done
     * @param plaintext        bytes the container decrypted but did not consume, in read mode; copied
     * @param ciphertext       bytes the container read but did not unwrap (maybe part of a record), in
     *                         read mode; copied
     * @param peerCloseReason  the reason from the peer's close frame
     * @param nativeConnection the container's connection object, for {@link #unwrap}; may be {@code null}
     * @param onClose          run once, after {@link #close()} has closed the channel
     */
    TlsDetachedConnection(IoLoop loop, SocketChannel channel, SSLEngine engine, ByteBuffer plaintext,
                          ByteBuffer ciphertext, CloseReason peerCloseReason, Object nativeConnection,
                          Runnable onClose) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.channel = Objects.requireNonNull(channel, "channel");
        this.engine = Objects.requireNonNull(engine, "engine");
        this.peerCloseReason = Objects.requireNonNull(peerCloseReason, "peerCloseReason");
        this.nativeConnection = nativeConnection;
        this.onClose = Objects.requireNonNull(onClose, "onClose");
        if (channel.isBlocking()) {
            throw new IllegalArgumentException("The channel must be in non-blocking mode");
        }
        SSLSession session = engine.getSession();
        postHandshakeMessages = "TLSv1.3".equals(session.getProtocol());
        plainIn = copy(Objects.requireNonNull(plaintext, "plaintext"), session.getApplicationBufferSize());
        plainIn.flip();
        netIn = copy(Objects.requireNonNull(ciphertext, "ciphertext"), session.getPacketBufferSize());
        netOut = ByteBuffer.allocate(session.getPacketBufferSize()).flip();
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
        return Optional.of(engine.getSession());
    }

    @Override
    public <T> Optional<T> unwrap(Class<T> type) {
        Objects.requireNonNull(type, "type");
        if (type.isInstance(nativeConnection)) {
            return Optional.of(type.cast(nativeConnection));
        }
        if (type.isInstance(engine)) {
            return Optional.of(type.cast(engine));
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
        long number = NO_WRITE;
        boolean refused;
        synchronized (lock) {
            if (writeHandler != null) {
                throw new WritePendingException();
            }
            refused = closed || shutdownRequested;
            if (!refused && src.hasRemaining()) {
                writeHandler = h;
                writeAttachment = attachment;
                writeBuffer = src;
                writeConsumed = 0;
                writeStalled = false;
                number = ++writeNumber;
            }
        }
        if (number != NO_WRITE) {
            IOException failure = pumpOut(number);
            if (failure != null) {
                LOG.log(Level.DEBUG, "Sending TLS records of a detached connection failed", failure);
            }
        } else if (refused) {
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
     * <p>Sends {@code close_notify} before the TCP half-close. With a write pending, both happen once that
     * write has written its whole buffer, before its handler runs. Calling it again does nothing.
     */
    @Override
    public DetachedConnection shutdownOutput() throws IOException {
        boolean now;
        synchronized (lock) {
            ensureOpen();
            if (shutdownRequested) {
                return this;
            }
            shutdownRequested = true;
            now = writeHandler == null;
        }
        if (now) {
            IOException failure = pumpOut(NO_WRITE);
            if (failure != null) {
                throw failure;
            }
        }
        return this;
    }

    /**
     * Closes the channel, without {@code close_notify}, fails the pending operations with
     * {@link AsynchronousCloseException}, then runs {@code onClose} on this thread. Does nothing if already
     * closed.
     *
     * <p>As with {@link NioDetachedConnection#close()}, the failed handlers run on the I/O thread unless
     * the loop is closed, so {@code onClose} may run before them.
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
        if ((readyOps & SelectionKey.OP_WRITE) != 0 && takeWaitingWrite()) {
            IOException failure = pumpOut(ANY_WRITE);
            if (failure != null) {
                // No write to report it to: a deferred shutdown or the engine's own messages. A broken
                // connection shows up in the next read or write anyway.
                LOG.log(Level.DEBUG, "Deferred sending of TLS records of a detached connection failed", failure);
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
            // starts the next operation right away, which would only have to add it back.
            outcome = updateInterestLocked();
        }
        afterInterestUpdate(outcome);
        return null;
    }

    /** Whether records wait for the channel, now to be written by the loop thread. */
    private boolean takeWaitingWrite() {
        int outcome;
        synchronized (lock) {
            if (writeWaiting) {
                writeWaiting = false;
                return true;
            }
            outcome = updateInterestLocked();
        }
        afterInterestUpdate(outcome);
        return false;
    }

    // ---------------------------------------------------------------------------------------- input

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
            if (failure instanceof SSLException) {
                // Closed before the handler runs, so that it finds the connection as unusable as it is.
                closeQuietly();
            }
            complete(handler, attachment, n, failure);
        } else {
            afterInterestUpdate(outcome);
        }
    }

    /** Delivers buffered plaintext, else unwraps one record, reading the channel only when it must. */
    private int transferIn(ByteBuffer dst) throws IOException {
        if (plainIn.hasRemaining()) {
            return moveTo(dst);
        }
        if (inputEnded) {
            return -1;
        }
        for (;;) {
            netIn.flip();
            plainIn.clear();
            SSLEngineResult result;
            try {
                result = engine.unwrap(netIn, plainIn);
            } finally {
                netIn.compact();
                plainIn.flip();
            }
            switch (result.getStatus()) {
                case OK -> {
                    afterUnwrap(result.getHandshakeStatus());
                    if (plainIn.hasRemaining()) {
                        return moveTo(dst);
                    }
                    if (result.bytesConsumed() == 0 && result.getHandshakeStatus() != HandshakeStatus.NEED_TASK) {
                        throw new SSLException("The TLS engine made no progress unwrapping: " + result);
                    }
                    // A post-handshake message: the next record may carry data.
                }
                case CLOSED -> {
                    inputEnded = true;
                    afterUnwrap(result.getHandshakeStatus());
                    return -1;
                }
                case BUFFER_UNDERFLOW -> {
                    if (!netIn.hasRemaining()) {
                        netIn = larger(netIn, engine.getSession().getPacketBufferSize());
                    }
                    int n = channel.read(netIn);
                    if (n < 0) {
                        inputEnded = true;
                        if (netIn.position() > 0) {
                            throw new EOFException("The TCP connection ended inside a TLS record");
                        }
                        return -1;
                    }
                    if (n == 0) {
                        return 0;
                    }
                }
                case BUFFER_OVERFLOW -> plainIn = larger(plainIn, engine.getSession().getApplicationBufferSize()).flip();
            }
        }
    }

    private void afterUnwrap(HandshakeStatus status) throws IOException {
        if (status == HandshakeStatus.NEED_TASK) {
            runDelegatedTasks();
            status = engine.getHandshakeStatus();
        }
        if (status == HandshakeStatus.NEED_WRAP) {
            sendEngineMessages();
        }
    }

    /**
     * Sends what the engine wants to send after an unwrap. With a write pending or records waiting for the
     * channel, whoever serves those sends it too, ahead of the next record of the write.
     */
    private void sendEngineMessages() {
        synchronized (lock) {
            if (closed || writeHandler != null || writeWaiting) {
                return;
            }
        }
        IOException failure = pumpOut(NO_WRITE);
        if (failure != null) {
            // Reading goes on; the next write or shutdown meets the same failure.
            LOG.log(Level.DEBUG, "Sending TLS messages of a detached connection failed", failure);
        }
    }

    private int moveTo(ByteBuffer dst) {
        int n = Math.min(plainIn.remaining(), dst.remaining());
        int limit = plainIn.limit();
        plainIn.limit(plainIn.position() + n);
        dst.put(plainIn);
        plainIn.limit(limit);
        return n;
    }

    // ---------------------------------------------------------------------------------------- output

    /**
     * Writes the records already wrapped, then wraps and writes what is due next, until nothing is due or
     * the channel is full. A pump serves the pending write only if {@code servable} names it (or is
     * {@link #ANY_WRITE}, on the loop thread), so that the write's handler runs on its starter or on the
     * loop thread, never on a reader's.
     *
     * @return a failure that no pending write took, for the caller to report or log; {@code null} if none
     */
    private IOException pumpOut(long servable) {
        CompletionHandler<Integer, Object> finished = null;
        Object finishedAttachment = null;
        int finishedResult = 0;
        Throwable finishedFailure = null;
        IOException failure = null;
        IOException unclaimed = null;
        int outcome = INTEREST_APPLIED;
        synchronized (outLock) {
            boolean blocked = false;
            boolean engineIdle = false;
            try {
                pumping:
                for (;;) {
                    if (netOut.hasRemaining()) {
                        channel.write(netOut);
                        if (netOut.hasRemaining()) {
                            blocked = true;
                            break;
                        }
                    }
                    OutStep step;
                    ByteBuffer src = null;
                    synchronized (lock) {
                        if (closed) {
                            break;
                        }
                        step = nextStepLocked(servable, engineIdle);
                        if (step == OutStep.FINISH_WRITE) {
                            finished = writeHandler;
                            finishedAttachment = writeAttachment;
                            finishedResult = writeConsumed;
                            // Only when the engine closed its output before the write got any byte in.
                            finishedFailure = writeConsumed == 0 ? new ClosedChannelException() : null;
                            clearWrite();
                            // A write started from now on is its starter's (or the loop's) to serve.
                            servable = servable == ANY_WRITE ? ANY_WRITE : NO_WRITE;
                        } else if (step == OutStep.WRAP_WRITE) {
                            src = writeBuffer;
                        }
                    }
                    switch (step) {
                        case WRAP_WRITE -> {
                            SSLEngineResult result = wrapOut(src);
                            if (result.getStatus() == SSLEngineResult.Status.OK
                                    && result.bytesConsumed() == 0 && result.bytesProduced() == 0) {
                                throw new SSLException("The TLS engine made no progress wrapping: " + result);
                            }
                            synchronized (lock) {
                                writeConsumed += result.bytesConsumed();
                            }
                        }
                        case WRAP_ENGINE -> engineIdle = wrapOut(NOTHING).bytesProduced() == 0;
                        case CLOSE_NOTIFY -> {
                            engine.closeOutbound();
                            if (wrapOut(NOTHING).bytesProduced() == 0 && !engine.isOutboundDone()) {
                                throw new SSLException("The TLS engine did not produce close_notify");
                            }
                        }
                        case SHUTDOWN_TCP -> {
                            channel.shutdownOutput();
                            synchronized (lock) {
                                outputShut = true;
                            }
                        }
                        case FINISH_WRITE -> {
                            // Taken above; what else is due goes out before the handler runs.
                        }
                        case IDLE -> {
                            break pumping;
                        }
                    }
                }
            } catch (IOException e) {
                failure = e;
            }
            synchronized (lock) {
                if (!closed) {
                    if (failure != null && writeHandler != null && mayServeLocked(servable)) {
                        finished = writeHandler;
                        finishedAttachment = writeAttachment;
                        finishedFailure = failure;
                        clearWrite();
                    } else {
                        unclaimed = failure;
                    }
                    if (blocked && writeHandler != null) {
                        writeStalled = true;
                    }
                    // A write this pump could not serve is handed to the loop thread, which serves any
                    // (and meets the failure, if there was one).
                    boolean wait = blocked && failure == null
                            || writeHandler != null && !mayServeLocked(servable);
                    writeWaiting = wait;
                    if (wait) {
                        outcome = updateInterestLocked();
                    }
                }
            }
        }
        if (failure instanceof SSLException) {
            // Closed before the handler runs, so that it finds the connection as unusable as it is.
            closeQuietly();
        }
        if (finished != null) {
            complete(finished, finishedAttachment, finishedResult, finishedFailure);
        }
        afterInterestUpdate(outcome);
        return unclaimed;
    }

    /** At a record boundary: the pending write's records, the engine's own, then those of a shutdown. */
    private OutStep nextStepLocked(long servable, boolean engineIdle) {
        boolean engineWantsWrap = !engineIdle && engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP;
        if (writeHandler != null) {
            if (!mayServeLocked(servable)) {
                return engineWantsWrap ? OutStep.WRAP_ENGINE : OutStep.IDLE;
            }
            boolean more = writeBuffer.hasRemaining() && !engine.isOutboundDone();
            if (more && !(writeStalled && writeConsumed > 0 && !shutdownRequested)) {
                return OutStep.WRAP_WRITE;
            }
            if (!shutdownRequested) {
                return OutStep.FINISH_WRITE;
            }
            // A shutdown waits for this write: it ends once close_notify and the TCP shutdown are out.
        }
        if (engineWantsWrap) {
            return OutStep.WRAP_ENGINE;
        }
        if (shutdownRequested) {
            if (!engine.isOutboundDone()) {
                return OutStep.CLOSE_NOTIFY;
            }
            if (!outputShut) {
                return OutStep.SHUTDOWN_TCP;
            }
            if (writeHandler != null) {
                return OutStep.FINISH_WRITE;
            }
        }
        return OutStep.IDLE;
    }

    private boolean mayServeLocked(long servable) {
        return servable == ANY_WRITE || servable == writeNumber;
    }

    /** Wraps from {@code src} into the empty {@link #netOut}, which it leaves in read mode. */
    private SSLEngineResult wrapOut(ByteBuffer src) throws IOException {
        for (;;) {
            netOut.clear();
            SSLEngineResult result;
            try {
                result = engine.wrap(src, netOut);
            } finally {
                netOut.flip();
            }
            if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                netOut = larger(netOut, engine.getSession().getPacketBufferSize()).flip();
            } else if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK
                    && result.bytesConsumed() == 0 && result.bytesProduced() == 0) {
                runDelegatedTasks();
            } else {
                return result;
            }
        }
    }

    private void runDelegatedTasks() throws SSLException {
        if (!postHandshakeMessages) {
            // Running the task would answer the peer's hello and renegotiate under the handler's feet.
            throw new SSLException("The peer started a TLS renegotiation, which a detached connection refuses");
        }
        for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
            task.run();
        }
    }

    // ---------------------------------------------------------------------------------------- common

    /** A buffer in write mode holding {@code bytes}'s remaining bytes, with room for at least {@code size}. */
    private static ByteBuffer copy(ByteBuffer bytes, int size) {
        return ByteBuffer.allocate(Math.max(size, bytes.remaining())).put(bytes.duplicate());
    }

    /**
     * The bytes before {@code buffer}'s position in a buffer of the session's new {@code size}, in write
     * mode. The engine asks for room only up to the sizes of its session, which grow on large records.
     */
    private static ByteBuffer larger(ByteBuffer buffer, int size) throws SSLException {
        if (size <= buffer.capacity()) {
            throw new SSLException("The TLS engine wants more room than its session's buffer size " + size);
        }
        return ByteBuffer.allocate(size).put(buffer.flip());
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
        writeConsumed = 0;
        writeStalled = false;
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
