package org.wsdetach.core;

/**
 * The detach protocol of one WebSocket connection, as explicit states and the transitions between them.
 * Not thread-safe: its owner, a {@link DetachableConnection}, calls it under one lock and acts on what each
 * transition returns once it has released that lock. Only {@link #state()} may be read without that lock,
 * by a reader that re-checks under it before acting on a transition.
 *
 * <pre>
 *           arm               arm
 *   OPEN ──────────▶ ARMED ◀──────┐
 *    │               │  │  └──────┘
 *    │               │  └─ the peer's close frame begins ─▶ PEER_CLOSE_ARRIVING ─┐ (its bytes collected)
 *    │ detach        │ detach                                                    │ it ends; reply sent
 *    └───────────────┴─────────▶ AWAITING_PEER_CLOSE ── the peer's close ────────┴─▶ HANDING_OVER
 *                                (our close sent;         frame ends                  │ our close written,
 *                                 frames discarded)                                   │ reads stopped,
 *                                                                                     │ session closed
 *                                                                                     ▼
 *                                                                                  DETACHED
 *   OPEN, ARMED ── the container's own close frame or release, the peer's close frame with no handler
 *                  armed, a protocol error, the transport closing ──▶ CLOSING (stock: the container
 *                  closes its way, and a detach is refused)
 *   AWAITING_PEER_CLOSE, PEER_CLOSE_ARRIVING, HANDING_OVER
 *       ── deadline, reset, end of stream, protocol error, cancel ──▶ FAILED
 * </pre>
 *
 * The three conditions of HANDING_OVER may be met in any order, some already while the peer's close is
 * awaited; the hand-over happens when the last one is.
 */
final class DetachState {

    enum State { OPEN, ARMED, CLOSING, AWAITING_PEER_CLOSE, PEER_CLOSE_ARRIVING, HANDING_OVER, DETACHED, FAILED }

    /** What the reader does with a close frame that begins where the container had the stream. */
    enum PeerCloseStart {
        /** No detach: the container gets the frame, and closes the session its own way. */
        TO_CONTAINER,
        /** A handler was armed: the detach begins now, and the frame is read here. */
        DETACH_BEGINS,
        /** A detach is already under way: the frame is read here. */
        DETACHING
    }

    /** Conditions of the hand-over; see the diagram. */
    static final int CLOSE_WRITTEN = 1;
    static final int READS_STOPPED = 2;
    static final int SESSION_CLOSED = 4;
    private static final int ALL_CONDITIONS = CLOSE_WRITTEN | READS_STOPPED | SESSION_CLOSED;

    /** Volatile for the reading thread's per-frame look, which takes no lock. */
    private volatile State state = State.OPEN;
    private int conditionsMet;
    /** Why the session is CLOSING, for the message of a detach that comes too late. */
    private String closingBecause;

    State state() {
        return state;
    }

    /** Whether the connection is between the start of a detach and its end. */
    boolean detaching() {
        return state == State.AWAITING_PEER_CLOSE || state == State.PEER_CLOSE_ARRIVING
                || state == State.HANDING_OVER;
    }

    /**
     * A handler is registered for the peer's close frame.
     *
     * @throws IllegalStateException unless OPEN or ARMED
     */
    void arm() {
        checkCanStart();
        state = State.ARMED;
    }

    /**
     * A local detach starts: our close frame is to be written.
     *
     * @throws IllegalStateException unless OPEN or ARMED
     */
    void detach() {
        checkCanStart();
        state = State.AWAITING_PEER_CLOSE;
    }

    private void checkCanStart() {
        switch (state) {
            case OPEN, ARMED -> {
            }
            case CLOSING -> throw new IllegalStateException("the session is closing: " + closingBecause);
            case AWAITING_PEER_CLOSE, PEER_CLOSE_ARRIVING, HANDING_OVER ->
                    throw new IllegalStateException("the session is already detaching");
            case DETACHED -> throw new IllegalStateException("the session has been detached");
            case FAILED -> throw new IllegalStateException("the session's detach failed; it is closed");
        }
    }

    /**
     * The container writes a frame of its own; its own close frame ends its chance to detach.
     *
     * @param closeFrame whether the frame is a close frame
     */
    ContainerWrite containerWrite(boolean closeFrame) {
        switch (state) {
            case OPEN, ARMED -> {
                if (closeFrame) {
                    closing("the container is closing it");
                }
                return ContainerWrite.WRITTEN;
            }
            case CLOSING -> {
                return ContainerWrite.WRITTEN;
            }
            default -> {
                return closeFrame ? ContainerWrite.SWALLOWED : ContainerWrite.REFUSED;
            }
        }
    }

    /**
     * The container lets go of the connection (closes its writer, which would close the transport).
     *
     * @return true if the container may close the transport: it still owns it
     */
    boolean containerReleases() {
        if (state == State.OPEN || state == State.ARMED) {
            closing("the container has closed it");
        }
        return state == State.CLOSING;
    }

    /**
     * The first byte of a close frame from the peer has been read where the container had the stream (a
     * detach may have started since the reader last looked).
     */
    PeerCloseStart peerCloseBegins() {
        switch (state) {
            case OPEN -> {
                closing("the peer's close frame has arrived with no handler registered for it: a detach the "
                        + "peer starts must be registered before its close frame comes, with Detach.detachOnPeerClose or "
                        + "@DetachOnPeerClose (a client whose server detaches registers it before sending the message that "
                        + "makes the server detach)");
                return PeerCloseStart.TO_CONTAINER;
            }
            case CLOSING -> {
                return PeerCloseStart.TO_CONTAINER;
            }
            case ARMED -> {
                state = State.PEER_CLOSE_ARRIVING;
                return PeerCloseStart.DETACH_BEGINS;
            }
            default -> {
                return PeerCloseStart.DETACHING;
            }
        }
    }

    /** The peer broke the protocol where the container has the stream: it will fail the connection. */
    void protocolBroken() {
        if (state == State.OPEN || state == State.ARMED) {
            closing("the peer broke the WebSocket protocol");
        }
    }

    /**
     * The peer's close frame has been read whole while detaching.
     *
     * @return true if it came first and our reply close frame is now due
     * @throws IllegalStateException unless AWAITING_PEER_CLOSE or PEER_CLOSE_ARRIVING
     */
    boolean peerCloseComplete() {
        boolean replyDue = switch (state) {
            case AWAITING_PEER_CLOSE -> false;
            case PEER_CLOSE_ARRIVING -> true;
            default -> throw new IllegalStateException("no close frame is awaited in " + state);
        };
        state = State.HANDING_OVER;
        return replyDue;
    }

    /**
     * One of the hand-over's conditions is met.
     *
     * @param condition {@link #CLOSE_WRITTEN}, {@link #READS_STOPPED} or {@link #SESSION_CLOSED}
     * @return true if that completed the hand-over: the state is now DETACHED, and the caller hands over
     */
    boolean met(int condition) {
        if (!detaching()) {
            return false;
        }
        conditionsMet |= condition;
        if (state == State.HANDING_OVER && conditionsMet == ALL_CONDITIONS) {
            state = State.DETACHED;
            return true;
        }
        return false;
    }

    /**
     * The detach fails: deadline, transport failure, protocol error or cancellation.
     *
     * @return the state it failed in, or null if no detach was in progress (nothing to do then)
     */
    State fail() {
        if (!detaching()) {
            return null;
        }
        State before = state;
        state = State.FAILED;
        return before;
    }

    /**
     * The transport has closed.
     *
     * @return true if a detach was in progress and must now {@linkplain #fail fail}
     */
    boolean transportClosed() {
        if (state == State.OPEN || state == State.ARMED) {
            closing("the connection has closed");
        }
        return detaching();
    }

    private void closing(String because) {
        state = State.CLOSING;
        closingBecause = because;
    }

    @Override
    public String toString() {
        return state + (state == State.CLOSING ? " (" + closingBecause + ")" : "")
                + (detaching() ? " conditions met 0b" + Integer.toBinaryString(conditionsMet) : "");
    }
}
