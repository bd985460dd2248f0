package org.wsdetach.tyrus;

import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.tyrus.container.grizzly.server.GrizzlyServerFilter;
import org.glassfish.tyrus.spi.ServerContainer;

import java.io.IOException;

/**
 * Tyrus' Grizzly WebSocket filter with two additions: it tells the engine which Grizzly connection a
 * handshake belongs to, and it stops Grizzly from reading a connection whose peer's close frame has
 * arrived, at the end of the read event that brought it.
 */
final class DetachingServerFilter extends GrizzlyServerFilter {

    /** The connection whose read is being processed on this thread, for the handshake's createConnection. */
    private static final ThreadLocal<Connection<?>> READING = new ThreadLocal<>();

    DetachingServerFilter(ServerContainer serverContainer, String contextPath) {
        super(serverContainer, contextPath);
    }

    static Connection<?> currentTransport() {
        return READING.get();
    }

    @Override
    public NextAction handleRead(FilterChainContext ctx) throws IOException {
        Connection<?> transport = ctx.getConnection();
        DetachableConnection connection = DetachableConnection.of(transport);
        NextAction detached = connection == null ? null : connection.readDetached(ctx);
        if (detached != null) {
            return detached;
        }
        READING.set(transport);
        NextAction next;
        try {
            next = super.handleRead(ctx);
        } finally {
            READING.remove();
        }
        connection = DetachableConnection.of(transport);
        if (connection != null && connection.readEventDone()) {
            // Grizzly disabled read interest for this event and enables it again when the event completes. A
            // suspended event does not complete, so the bytes after the peer's close frame stay in the socket.
            ctx.suspend();
            connection.readsStopped(ctx);
            return ctx.getSuspendAction();
        }
        return next;
    }
}
