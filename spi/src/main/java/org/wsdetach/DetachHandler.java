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
}
