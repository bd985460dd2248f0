package org.wsdetach.tyrus;

import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.NextAction;
import org.glassfish.tyrus.container.grizzly.server.GrizzlyServerFilter;
import org.glassfish.tyrus.spi.ServerContainer;

import java.io.IOException;

/**
 * Tyrus' Grizzly WebSocket filter for servers, with two additions: it tells the engine which Grizzly
 * connection a handshake belongs to, and it runs {@link TyrusConnection#handleRead}'s hooks.
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
        return TyrusConnection.handleRead(ctx, () -> {
            READING.set(ctx.getConnection());
            try {
                return super.handleRead(ctx);
            } finally {
                READING.remove();
            }
        });
    }
}
