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
import org.wsdetach.core.OnDemandThreads;

import java.io.IOException;

/**
 * Sits in front of Tomcat's WebSocket filter (and Spring's handlers): a WebSocket handshake request passes on
 * wrapped, so that when Tomcat upgrades it to {@link WsHttpUpgradeHandler} it gets a
 * {@link DetachingUpgradeHandler}. Other requests pass untouched. Owns the web application's detach threads,
 * started on the first handshake and closed with the application.
 */
final class UpgradeFilter implements Filter {

    private final OnDemandThreads threads;

    UpgradeFilter(String name) {
        this.threads = new OnDemandThreads(name);
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

    /** Closes the detached connections still open and ends the threads. */
    void stop() {
        threads.close();
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
            handler.threads(threads.get());
            return handlerClass.cast(handler);
        }
    }
}
