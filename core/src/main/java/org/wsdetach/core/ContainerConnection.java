package org.wsdetach.core;

import jakarta.websocket.CloseReason;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * The container's half of one WebSocket connection, implemented by each container adapter: the few things
 * a detach needs a container to do, and nothing it can do the same way everywhere. Its
 * {@link DetachableConnection} calls it; each method says on which thread and what it must call back.
 * None of them may block.
 */
public interface ContainerConnection {

    /**
     * Feeds bytes to the container's own frame parser, which acts on them as on bytes from the network.
     * Called on the reading thread, with at most one frame (or part of one) at a time, so that a detach
     * asked for while a frame is handled finds the frames behind it unparsed.
     *
     * @param bytes the bytes between position and limit; the container may keep no reference to them
     */
    void deliver(ByteBuffer bytes);

    /**
     * Writes {@code frame} behind everything the container has queued for writing, then calls
     * {@code done} with null, or with the failure. {@code done} may run on any thread, also before this
     * method returns.
     *
     * @param frame one of our close frames, owned by the container from now on
     * @param done  told when the frame has been written
     */
    void write(ByteBuffer frame, Consumer<Throwable> done);

    /**
     * Makes the container read no more: called on the reading thread, within
     * {@link DetachableConnection#onInbound}, when the peer's close frame has been read. Once no read will
     * reach the container any more (at once, or when its current read event is over), the adapter calls
     * {@link DetachableConnection#readsStopped()}; bytes not read by then stay in the transport.
     */
    void stopReading();

    /**
     * Closes the session the container's way, without closing the transport: {@code @OnClose} runs once
     * with {@code reason} and the session leaves the open sessions; a close frame the container writes
     * meanwhile is {@linkplain DetachableConnection#onContainerWrite swallowed}. Once done (at once, or
     * later if the session is still being opened) the adapter calls
     * {@link DetachableConnection#sessionClosed()}.
     *
     * @param reason the reason {@code @OnClose} is given
     */
    void closeSession(CloseReason reason);

    /**
     * Closes the transport once what is queued for writing has gone out. Called when a detach fails; never
     * after {@link #release()}.
     */
    void closeTransport();

    /**
     * Gives the transport up for good: from now on the container neither reads, writes, times out nor
     * closes it. Called once, after reads have stopped, our close frame has been written and the session
     * has closed.
     *
     * @return the transport, for the detached connection
     */
    Transport release();

    /**
     * The id of the session on this connection ({@code Session.getId()}), for the report of a failed detach
     * that the peer started. Called on any thread, only once the peer has sent frames, so once the session
     * exists.
     *
     * @return the session's id
     */
    String sessionId();

    /**
     * The container's name, for the report of each detach to JDK Flight Recorder (the {@code container} field of
     * the {@code org.wsdetach.Detach} event). Called on any thread, only while a recording asks for the event.
     *
     * @return a short, stable name such as {@code Tyrus}, {@code Tomcat} or {@code Jetty}; by default the simple
     *         name of the implementing class
     */
    default String containerName() {
        return getClass().getSimpleName();
    }

    /**
     * Whether the connection runs over TLS ({@code wss}), for the same report of a detach that fails (a hand-over
     * tells it by its {@link Transport}). Called on any thread, only while a recording asks for the event.
     *
     * @return true for {@code wss}; by default false, which an adapter of a container that serves {@code wss}
     *         overrides
     */
    default boolean secure() {
        return false;
    }
}
