package org.wsdetach.tomcat;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpUpgradeHandler;
import org.apache.tomcat.websocket.server.WsHttpUpgradeHandler;
import org.wsdetach.core.DetachThreads;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Sits in front of Tomcat's WebSocket filter (and Spring's handlers): a WebSocket handshake request passes on
 * wrapped, so that when Tomcat upgrades it to {@link WsHttpUpgradeHandler} it gets a
 * {@link DetachingUpgradeHandler}. Other requests pass untouched. Owns the web application's detach threads,
 * started on the first handshake and closed with the application.
 */
final class UpgradeFilter implements Filter {

    private final String name;
    private DetachThreads threads;
    private boolean closed;

    UpgradeFilter(String name) {
        this.name = name;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request instanceof HttpServletRequest && isWebSocketHandshake((HttpServletRequest) request)) {
            request = new Handshake((HttpServletRequest) request);
        }
        chain.doFilter(request, response);
    }

    private static boolean isWebSocketHandshake(HttpServletRequest request) {
        String upgrade = request.getHeader("Upgrade");
        return upgrade != null && upgrade.toLowerCase(java.util.Locale.ROOT).contains("websocket");
    }

    /** The application's detach threads, started now if they are not yet; null once it has stopped. */
    private synchronized DetachThreads threads() {
        if (threads == null && !closed) {
            try {
                threads = DetachThreads.open(name);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the selector of detached connections", e);
            }
        }
        return threads;
    }

    /** Closes the detached connections still open and ends the threads. */
    synchronized void stop() {
        closed = true;
        if (threads != null) {
            threads.close();
            threads = null;
        }
    }

    private final class Handshake extends HttpServletRequestWrapper {
        Handshake(HttpServletRequest request) {
            super(request);
        }

        @Override
        public <T extends HttpUpgradeHandler> T upgrade(Class<T> handlerClass) throws IOException, ServletException {
            if (handlerClass != WsHttpUpgradeHandler.class) {
                return super.upgrade(handlerClass);
            }
            DetachingUpgradeHandler handler = super.upgrade(DetachingUpgradeHandler.class);
            handler.threads(threads());
            return handlerClass.cast(handler);
        }
    }
}
