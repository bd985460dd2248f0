package org.wsdetach;

/**
 * Takes ownership of a detached connection.
 *
 * <p>A provider calls {@link #onDetached} exactly once per successful detach, after both close frames
 * have been exchanged and after the session's {@code @OnClose} has run. From that call on the handler
 * owns the {@link DetachedConnection}: it must eventually close it, and nothing else reads from or
 * writes to it. The call is made on a container thread (an I/O or worker thread of the provider), so
 * the handler must not block: it starts non-blocking reads and writes, or hands the connection to a
 * thread of its own (for example to use {@link java.nio.channels.Channels#newInputStream blocking
 * streams}). If the handler throws, the provider logs the exception and closes the connection.
 *
 * <p>A detach the peer started ({@link Detach#detachOnPeerClose}, {@link DetachOnPeerClose}) has no
 * future to report a failure through; {@link #onDetachFailed} is told instead.
 */
@FunctionalInterface
public interface DetachHandler {

    /**
     * Receives the live connection of a session that has just been detached.
     *
     * @param connection the detached connection, open, positioned at the first byte the peer sent after
     *                   its close frame
     */
    void onDetached(DetachedConnection connection);

    /**
     * Learns that a detach the peer started, with this handler registered for it, has failed: its close frame
     * began to arrive, and then the detach failed as {@link Detach#detach} fails, so that {@link #onDetached}
     * will not be called for that session. The provider calls it exactly once per such failure, and never for
     * a detach started with {@link Detach#detach} (its future reports the failure), for a successful detach,
     * or for a session that ends before the peer's close frame begins (it closes as without a handler).
     *
     * <p>{@code cause} is what the future of {@link Detach#detach} would have failed with:
     * {@link java.util.concurrent.TimeoutException} if the close frame did not complete, or the hand-over did
     * not, within the timeout; {@link java.net.ProtocolException} if the frame or its close payload was
     * malformed; {@link java.net.SocketException} if the connection was reset or ended before the frame was
     * whole, or our reply could not be sent (with the transport's exception, a TLS failure for instance, as
     * its cause when there is one); or, if taking the connection over failed, the
     * {@link java.io.IOException} or runtime exception that made it fail.
     *
     * <p>When it is called the provider has closed the connection, or is closing it, the failure has been
     * logged at {@code WARNING}, and the session's {@code @OnClose} has run or will run once, as
     * {@link Detach#detachOnPeerClose(jakarta.websocket.Session, java.time.Duration, DetachHandler)} describes.
     * It runs on the provider thread that found the failure (a container I/O or worker thread, or the timer
     * of the deadlines), so it must not block. If it throws, the provider logs the exception, and nothing
     * else changes. By default it does nothing.
     *
     * @param sessionId the failed session's {@link jakarta.websocket.Session#getId() id}
     * @param cause     why the detach failed
     */
    default void onDetachFailed(String sessionId, Exception cause) {
    }
}
