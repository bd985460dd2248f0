package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import org.wsdetach.DetachedConnection;

import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link DetachedConnection} for plain {@code ws}: the bytes go to and from the {@link SocketChannel} as
 * they are. Threads, futures and the closing of the loop are as {@link SelectableDetachedConnection} says.
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
 * <p>{@link #unwrap} gives the native connection object when it is of the requested type, else the
 * {@link SocketChannel} when that is.
 */
final class NioDetachedConnection extends SelectableDetachedConnection {

    private static final System.Logger LOG = System.getLogger(NioDetachedConnection.class.getName());

    /**
     * Bytes received before the hand-over, {@code null} once consumed. Only the thread running the
     * current read attempt touches it; attempts are ordered by {@link #lock}.
     */
    private ByteBuffer initialBytes;

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
        super(loop, channel, peerCloseReason, nativeConnection, onClose);
        this.initialBytes = Objects.requireNonNull(initialBytes, "initialBytes").hasRemaining()
                ? initialBytes : null;
        joinLoop();
    }

    @Override
    public Optional<SSLSession> sslSession() {
        return Optional.empty();
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

    @Override
    int transferIn(ByteBuffer dst) throws IOException {
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

    @Override
    Runnable writeStartedLocked() {
        ByteBuffer src = writeBuffer;
        return () -> attemptWrite(src);
    }

    /** Only the pending write ever waits for room, so the loop thread goes on attempting it. */
    @Override
    Runnable writableLocked() {
        return writeStartedLocked();
    }

    @Override
    void writeClearedLocked() {
        // Only the pending write ever waits for room in the channel.
        writeWaiting = false;
        writeTotal = 0;
        shutdownAfterWrite = false;
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
                boolean shutdown = shutdownAfterWrite;
                clearWrite();
                if (shutdown) {
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
}
