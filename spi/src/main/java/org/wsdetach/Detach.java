package org.wsdetach;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;
import org.wsdetach.spi.CloseFrames;
import org.wsdetach.spi.DetachProvider;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * Detaches Jakarta WebSocket sessions: libdill's {@code ws_detach(3)} for {@link Session}s.
 *
 * <p>A detach performs the RFC 6455 closing handshake and then, instead of closing the TCP connection,
 * hands it to a {@link DetachHandler} as a {@link DetachedConnection}, with every byte the peer sent
 * after its close frame. It starts either here ({@link #detach}: we send the first close frame) or at
 * the peer ({@link #detachOnPeerClose}: the peer's close frame is answered, then the connection is
 * handed over). Either way the session ends as a closed session: {@code @OnClose} runs once,
 * {@link Session#isOpen()} turns false and the session leaves {@code getOpenSessions()}. The
 * {@code CloseReason} given to {@code @OnClose} is the local one for {@link #detach} and the peer's for
 * {@link #detachOnPeerClose}.
 *
 * <p>The work is done by a {@link DetachProvider} for the session's container, found with
 * {@link ServiceLoader}.
 *
 * <table class="striped">
 * <caption>ws_detach(3) in Java</caption>
 * <thead><tr><th>ws_detach(3)</th><th>here</th></tr></thead>
 * <tbody>
 * <tr><td>{@code s}</td><td>{@code session}</td></tr>
 * <tr><td>{@code status}, {@code buf}, {@code len}</td><td>{@code closeReason}: a code a peer may send
 *     (1000-1003, 1007-1014, 3000-4999) and a reason of at most 123 UTF-8 bytes;
 *     {@link CloseReason.CloseCodes#NO_STATUS_CODE} with an empty reason sends an empty close payload
 *     (libdill's status 0)</td></tr>
 * <tr><td>{@code deadline}</td><td>{@code timeout}, for the wait for the peer's close frame:
 *     {@link Duration#ZERO} succeeds only if the peer's close frame has already been received;
 *     {@link #NO_DEADLINE} waits forever; {@link #DEFAULT_TIMEOUT} when not given</td></tr>
 * <tr><td>return value</td><td>the {@link DetachedConnection}, given to the handler and to the returned
 *     future</td></tr>
 * <tr><td>{@code EINVAL}</td><td>{@link IllegalArgumentException} (or {@link NullPointerException}),
 *     thrown before anything is sent; the session stays open</td></tr>
 * <tr><td>{@code EBADF}</td><td>{@link IllegalStateException}, thrown: the session is not open, or is
 *     already detaching or detached</td></tr>
 * <tr><td>{@code ENOTSUP}</td><td>{@link UnsupportedOperationException}, thrown: no provider supports
 *     the session's container</td></tr>
 * <tr><td>{@code ETIMEDOUT}</td><td>the future fails with {@link java.util.concurrent.TimeoutException}</td></tr>
 * <tr><td>{@code ECONNRESET}</td><td>the future fails with {@link java.net.SocketException}: reset, or end of
 *     stream before the peer's close frame; the cause, when there is one, is the transport's</td></tr>
 * <tr><td>{@code EPROTO}</td><td>the future fails with {@link java.net.ProtocolException}: the peer sent a
 *     malformed frame or close payload while we waited</td></tr>
 * <tr><td>{@code ECANCELED}</td><td>{@link CompletableFuture#cancel cancelling} the returned future abandons the
 *     detach; the handler is not called</td></tr>
 * </tbody>
 * </table>
 *
 * <p>Once our close frame has been sent, every failure closes the connection ("the socket is closed
 * even in the case of error"); the handler's {@link DetachHandler#onDetached} is called only on success. A
 * detach the peer started has no future: its failures go to {@link DetachHandler#onDetachFailed}.
 */
public final class Detach {

    /** The timeout used when none is given: finite, so that a silent peer cannot hold a connection. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    /**
     * Waits for the peer's close frame without a deadline (libdill's {@code -1}). Any duration too long
     * to be counted in nanoseconds (about 292 years) means the same.
     */
    public static final Duration NO_DEADLINE = ChronoUnit.FOREVER.getDuration();

    private Detach() {
    }

    /**
     * Detaches {@code session} with {@link #DEFAULT_TIMEOUT}.
     *
     * @see #detach(Session, CloseReason, Duration, DetachHandler)
     */
    public static CompletableFuture<DetachedConnection> detach(Session session, CloseReason closeReason,
                                                               DetachHandler handler) {
        return detach(session, closeReason, DEFAULT_TIMEOUT, handler);
    }

    /**
     * Starts detaching {@code session}: messages already sent go out first, then a close frame with
     * {@code closeReason}; frames the peer sends before its own close frame are discarded; when the peer's
     * close frame has arrived the connection goes to {@code handler} and to the returned future, open.
     *
     * <p>Never blocks, so it may be called from {@code @OnOpen} or {@code @OnMessage}. Sending on the
     * session after this call fails. {@code @OnClose} runs once, with {@code closeReason}, before the handler
     * is called: before this method returns where the container lets the caller's thread run it, otherwise
     * (when called from {@code @OnOpen}, or on a container that runs {@code @OnClose} from its reading thread
     * only, as Jetty does) as soon as that thread is free. A failure of the connection before it has run
     * gives it {@link CloseReason.CloseCodes#CLOSED_ABNORMALLY} instead.
     *
     * @param session     an open session of a supported container
     * @param closeReason the close status and reason to send (see the class table)
     * @param timeout     how long to wait for the peer's close frame (see the class table)
     * @param handler     the new owner of the connection
     * @return a future that completes with the connection, just before the handler is called, or fails as
     *         described in the class table
     * @throws IllegalArgumentException      if {@code closeReason} or {@code timeout} is invalid
     * @throws IllegalStateException         if the session is not open, is closing (its peer's close frame
     *                                       or its own has been seen already), or is detaching or detached
     * @throws UnsupportedOperationException if no provider supports the session
     */
    public static CompletableFuture<DetachedConnection> detach(Session session, CloseReason closeReason,
                                                               Duration timeout, DetachHandler handler) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(closeReason, "closeReason");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(handler, "handler");
        CloseFrames.checkLocal(closeReason);
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout: " + timeout);
        }
        return providerFor(session).detach(session, closeReason, timeout, handler);
    }

    /**
     * Makes the peer's close frame detach {@code session}, with {@link #DEFAULT_TIMEOUT}.
     *
     * @see #detachOnPeerClose(Session, Duration, DetachHandler)
     */
    public static void detachOnPeerClose(Session session, DetachHandler handler) {
        detachOnPeerClose(session, DEFAULT_TIMEOUT, handler);
    }

    /**
     * Makes the peer's close frame detach {@code session}: instead of closing the connection after the
     * reply close frame (which carries the peer's status, or no status if the peer sent none), the
     * connection goes to {@code handler}, open. Until the peer's close frame arrives the session behaves
     * as usual. Call it before the close frame can arrive, typically in {@code @OnOpen}; a later call
     * replaces the handler and the timeout. A close frame that has begun to arrive must complete, and the
     * connection be handed over, within {@code timeout} ({@link #NO_DEADLINE} for no bound). Otherwise, as
     * for any failure of a detach the peer started, the connection is closed, the failure is logged at
     * {@code WARNING} with the session's id, and the handler's {@link DetachHandler#onDetachFailed} is told,
     * with the exception that {@link #detach} would have failed its future with (see the class table). If the
     * close frame had not arrived whole, {@code @OnClose} gets {@link CloseReason.CloseCodes#CLOSED_ABNORMALLY}
     * (or {@link CloseReason.CloseCodes#PROTOCOL_ERROR} for a malformed close frame, which the peer is also
     * sent); if it had, {@code @OnClose} gets the peer's reason, as on success.
     *
     * @param session an open session of a supported container
     * @param timeout how long the peer's close frame may take, from its first byte to the hand-over
     * @param handler the new owner of the connection
     * @throws IllegalArgumentException      if {@code timeout} is zero or negative
     * @throws IllegalStateException         if the session is closing (its peer's close frame or its own has
     *                                       been seen already), detaching or detached
     * @throws UnsupportedOperationException if no provider supports the session
     */
    public static void detachOnPeerClose(Session session, Duration timeout, DetachHandler handler) {
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(handler, "handler");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the timeout of a peer-initiated detach must be positive: " + timeout);
        }
        providerFor(session).detachOnPeerClose(session, timeout, handler);
    }

    private static DetachProvider providerFor(Session session) {
        for (DetachProvider provider : Providers.ALL) {
            if (provider.supports(session)) {
                return provider;
            }
        }
        throw new UnsupportedOperationException("no detach provider supports " + session.getClass().getName()
                + "; providers found: " + Providers.ALL.stream().map(p -> p.getClass().getName())
                .collect(Collectors.joining(", ", "[", "]")));
    }

    /** Loaded once, on first use, with the class loader that loaded this API. */
    private static final class Providers {
        static final List<DetachProvider> ALL = ServiceLoader.load(DetachProvider.class, Detach.class.getClassLoader())
                .stream().map(ServiceLoader.Provider::get).collect(Collectors.toUnmodifiableList());
    }
}
