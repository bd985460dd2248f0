package org.wsdetach.spi;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import org.wsdetach.Detach;
import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A container's implementation of {@link Detach}, found with {@link java.util.ServiceLoader} (register
 * the implementation in {@code META-INF/services/org.wsdetach.spi.DetachProvider}; it needs a public
 * no-argument constructor).
 *
 * <p>{@link Detach} checks the arguments (non-null, a valid close reason, a non-negative timeout) and
 * asks each provider in turn whether it {@linkplain #supports supports} the session; the first that does
 * gets the call. A provider must then honour the whole contract that {@link Detach} documents: the
 * close-frame exchange, the hand-over of every byte after the peer's close frame, the session lifecycle,
 * the error table, and closing the connection on every failure after its close frame has gone out.
 * {@link FrameScanner} and {@link CloseFrames} do the container-neutral protocol work.
 */
public interface DetachProvider {

    /**
     * Tells whether this provider can detach {@code session}. Must be cheap and must not throw.
     *
     * @param session any session
     * @return true if the session belongs to a container this provider handles
     */
    boolean supports(Session session);

    /**
     * Implements {@link Detach#detach(Session, CloseReason, Duration, DetachHandler)}; the arguments have
     * been checked.
     *
     * @param session     a supported session
     * @param closeReason a valid local close reason, to send and to give to {@code @OnClose}
     * @param timeout     non-negative; {@link Duration#ZERO} or at least {@link Detach#NO_DEADLINE}'s
     *                    nanosecond range have the meanings {@link Detach} gives them
     * @param handler     the new owner of the connection
     * @return the future described by {@link Detach}
     */
    CompletableFuture<DetachedConnection> detach(Session session, CloseReason closeReason, Duration timeout,
                                                 DetachHandler handler);

    /**
     * Implements {@link Detach#detachOnPeerClose(Session, Duration, DetachHandler)}; the arguments have been
     * checked.
     *
     * @param session a supported session
     * @param timeout positive; at least {@link Detach#NO_DEADLINE}'s nanosecond range means no bound
     * @param handler the new owner of the connection
     */
    void detachOnPeerClose(Session session, Duration timeout, DetachHandler handler);
}
