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
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.CompletionHandler;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link DetachedConnection} for {@code wss}: the {@link SSLEngine} of the WebSocket, taken over after
 * its handshake, driven by this connection over the raw non-blocking {@link SocketChannel} and served by
 * an {@link IoLoop}.
 *
 * <p>Threads, futures and the closing of the loop are as {@link SelectableDetachedConnection} says;
 * delegated tasks of the engine run inline, on whichever of those threads meets them.
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
 * <p>{@link #close()} is abortive: it closes the TCP connection without {@code close_notify}.
 *
 * <p>{@link #unwrap} gives the native connection object when it is of the requested type, else the
 * {@link SSLEngine}, else the {@link SocketChannel}.
 */
final class TlsDetachedConnection extends SelectableDetachedConnection {

    /** Which pending write a pump may serve: none, whichever (the loop thread), or the one of this number. */
    private static final System.Logger LOG = System.getLogger(TlsDetachedConnection.class.getName());
    private static final long NO_WRITE = -1;
    private static final long ANY_WRITE = 0;
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);

    /** What the output side does next, once no record is partly written. */
    private enum OutStep { WRAP_WRITE, FINISH_WRITE, WRAP_ENGINE, CLOSE_NOTIFY, SHUTDOWN_TCP, IDLE }

    private final SSLEngine engine;
    /** Only TLS 1.3 has post-handshake messages; in earlier versions a handshake message is renegotiation. */
    private final boolean postHandshakeMessages;

    /**
     * Orders the use of the engine's output with the writing of its records: guards {@link #netOut}. Taken
     * before {@link #lock}, never while holding it.
     */
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

    /** Numbers the writes, so that a write's starter serves only its own write. */
    private long writeNumber;
    /** Source bytes the pending write has had wrapped so far. */
    private int writeConsumed;
    /** The channel took a record of the pending write only in part: the write ends at the next boundary. */
    private boolean writeStalled;
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
        super(loop, channel, peerCloseReason, nativeConnection, onClose);
        this.engine = Objects.requireNonNull(engine, "engine");
        SSLSession session = engine.getSession();
        postHandshakeMessages = "TLSv1.3".equals(session.getProtocol());
        plainIn = copy(Objects.requireNonNull(plaintext, "plaintext"), session.getApplicationBufferSize());
        plainIn.flip();
        netIn = copy(Objects.requireNonNull(ciphertext, "ciphertext"), session.getPacketBufferSize());
        netOut = ByteBuffer.allocate(session.getPacketBufferSize()).flip();
        joinLoop();
    }

    @Override
    public Optional<SSLSession> sslSession() {
        return Optional.of(engine.getSession());
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

    @Override
    Object unwrapLayer() {
        return engine;
    }

    /** The engine cannot carry bytes any more after any of its failures. */
    @Override
    boolean isFatal(IOException failure) {
        return failure instanceof SSLException;
    }

    // ---------------------------------------------------------------------------------------- input

    /** Delivers buffered plaintext, else unwraps one record, reading the channel only when it must. */
    @Override
    int transferIn(ByteBuffer dst) throws IOException {
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
        // Reading goes on; the next write or shutdown meets the same failure.
        pumpOutLogging(NO_WRITE, "Sending TLS messages of a detached connection failed");
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

    @Override
    boolean refusesWritesLocked() {
        return shutdownRequested;
    }

    @Override
    Runnable writeStartedLocked() {
        long number = ++writeNumber;
        return () -> pumpOutLogging(number, "Sending TLS records of a detached connection failed");
    }

    /** What waited: records the channel did not take, or a write that the pump meeting it could not serve. */
    @Override
    Runnable writableLocked() {
        // No write to report a failure to: a deferred shutdown or the engine's own messages. A broken
        // connection shows up in the next read or write anyway.
        return () -> pumpOutLogging(ANY_WRITE, "Deferred sending of TLS records of a detached connection failed");
    }

    @Override
    void writeClearedLocked() {
        // writeWaiting stays: the engine's own records may wait for the channel with no write pending.
        writeConsumed = 0;
        writeStalled = false;
    }

    /** {@link #pumpOut}, for a caller that has no one to report a failure to. */
    private void pumpOutLogging(long servable, String failureMessage) {
        IOException failure = pumpOut(servable);
        if (failure != null) {
            LOG.log(Level.DEBUG, failureMessage, failure);
        }
    }

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
                            // A write started from now on is its starter's to serve: its starter pumps
                            // for it once this pump lets go, and this pump runs one handler only.
                            servable = NO_WRITE;
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
        if (failure != null && isFatal(failure)) {
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
}
