package org.wsdetach.tyrus;

import org.glassfish.grizzly.Connection;
import org.glassfish.grizzly.filterchain.Filter;
import org.glassfish.grizzly.filterchain.FilterChain;
import org.glassfish.grizzly.filterchain.FilterChainContext;
import org.glassfish.grizzly.filterchain.FilterChainEvent;
import org.glassfish.grizzly.filterchain.NextAction;

import java.io.IOException;

/**
 * Tyrus' Grizzly WebSocket filter for clients, which Tyrus builds into each connection's private filter
 * chain, wrapped to run {@link TyrusConnection#handleRead}'s hooks around its reads. It takes the
 * original's place in the chain while the handshake's response is being processed.
 */
final class DetachingClientFilter implements Filter {

    private static final String TYRUS_FILTER = "org.glassfish.tyrus.container.grizzly.client.GrizzlyClientFilter";

    private final Filter tyrus;

    private DetachingClientFilter(Filter tyrus) {
        this.tyrus = tyrus;
    }

    /** Puts the wrapper in the place of Tyrus' filter in {@code transport}'s chain. */
    static void install(Connection<?> transport) {
        if (!(transport.getProcessor() instanceof FilterChain)) {
            throw new IllegalStateException("Tyrus' client connection has no filter chain: " + transport);
        }
        FilterChain chain = (FilterChain) transport.getProcessor();
        for (int index = 0; index < chain.size(); index++) {
            // Tyrus' filter class is not public: it is known by name.
            if (chain.get(index).getClass().getName().equals(TYRUS_FILTER)) {
                chain.set(index, new DetachingClientFilter(chain.get(index)));
                return;
            }
        }
        throw new IllegalStateException("Tyrus' client filter is not in " + chain);
    }

    @Override
    public NextAction handleRead(FilterChainContext ctx) throws IOException {
        return TyrusConnection.handleRead(ctx, () -> tyrus.handleRead(ctx));
    }

    @Override
    public void onAdded(FilterChain filterChain) {
        tyrus.onAdded(filterChain);
    }

    @Override
    public void onRemoved(FilterChain filterChain) {
        tyrus.onRemoved(filterChain);
    }

    @Override
    public void onFilterChainChanged(FilterChain filterChain) {
        tyrus.onFilterChainChanged(filterChain);
    }

    @Override
    public NextAction handleWrite(FilterChainContext ctx) throws IOException {
        return tyrus.handleWrite(ctx);
    }

    @Override
    public NextAction handleConnect(FilterChainContext ctx) throws IOException {
        return tyrus.handleConnect(ctx);
    }

    @Override
    public NextAction handleAccept(FilterChainContext ctx) throws IOException {
        return tyrus.handleAccept(ctx);
    }

    @Override
    public NextAction handleEvent(FilterChainContext ctx, FilterChainEvent event) throws IOException {
        return tyrus.handleEvent(ctx, event);
    }

    @Override
    public NextAction handleClose(FilterChainContext ctx) throws IOException {
        return tyrus.handleClose(ctx);
    }

    @Override
    public void exceptionOccurred(FilterChainContext ctx, Throwable error) {
        tyrus.exceptionOccurred(ctx, error);
    }
}
