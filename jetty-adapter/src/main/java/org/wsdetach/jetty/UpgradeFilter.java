package org.wsdetach.jetty;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import org.eclipse.jetty.http.pathmap.PathSpec;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.util.FutureCallback;
import org.eclipse.jetty.websocket.core.WebSocketConstants;
import org.eclipse.jetty.websocket.core.server.WebSocketMappings;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.wsdetach.core.DetachThreads;
import org.wsdetach.core.OnDemandThreads;

import java.io.IOException;

/**
 * Sits in front of Jetty's own WebSocket upgrade filter and does what it does, through Jetty's public
 * {@link WebSocketMappings}, with a {@link Handshake} of the adapter's: the session Jetty creates is then
 * detachable. Requests that are no WebSocket handshake for a mapped path pass untouched. The servlet layer
 * (ee10 or ee11) is reached through {@link EeGlue}. Owns the web application's detach threads, started on
 * the first handshake and closed with the application.
 */
final class UpgradeFilter implements Filter {

    private final EeGlue glue;
    private final ServletContext context;
    private final OnDemandThreads threads;
    private final DeclaredHandlerCheck declaredHandlers;

    UpgradeFilter(EeGlue glue, ServletContext context, String name) {
        this.glue = glue;
        this.context = context;
        this.threads = new OnDemandThreads(name);
        this.declaredHandlers = new DeclaredHandlerCheck(context.getContextPath());
    }

    /**
     * Checks the endpoints mapped by now: called once the application's initializers have run.
     *
     * @throws IllegalStateException if one declares a {@code @DetachOnPeerClose} handler no instance can be made of
     */
    void checkDeployedEndpoints() {
        declaredHandlers.checkDeployed(WebSocketMappings.getMappings(glue.contextHandler(context)));
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        Request jettyRequest = glue.request(request);
        ContextHandler contextHandler = glue.contextHandler(context);
        WebSocketMappings mappings = jettyRequest == null ? null : WebSocketMappings.getMappings(contextHandler);
        if (mappings == null || !mappings.getHandshaker().isWebSocketUpgradeRequest(jettyRequest)) {
            chain.doFilter(request, response);
            return;
        }
        WebSocketNegotiator negotiator = mappings.getMatchedNegotiator(jettyRequest,
                (matched, pathSpec) -> matched.setAttribute(PathSpec.class.getName(), pathSpec));
        DetachThreads detachThreads = threads.get();
        if (negotiator == null || detachThreads == null) {
            chain.doFilter(request, response);
            return;
        }
        Response jettyResponse = glue.response(jettyRequest);
        Handshake handshake = new Handshake(detachThreads, glue, declaredHandlers);
        FutureCallback callback = new FutureCallback();
        // As Jetty's filter does, for endpoints that look for the servlet request and response.
        jettyRequest.setAttribute(WebSocketConstants.WEBSOCKET_WRAPPED_REQUEST_ATTRIBUTE, request);
        jettyRequest.setAttribute(WebSocketConstants.WEBSOCKET_WRAPPED_RESPONSE_ATTRIBUTE, response);
        try {
            if (mappings.upgrade(handshake.negotiator(negotiator), handshake.request(jettyRequest), jettyResponse,
                    callback, null)) {
                callback.block();
                return;
            }
        } finally {
            jettyRequest.removeAttribute(WebSocketConstants.WEBSOCKET_WRAPPED_REQUEST_ATTRIBUTE);
            jettyRequest.removeAttribute(WebSocketConstants.WEBSOCKET_WRAPPED_RESPONSE_ATTRIBUTE);
        }
        if (!response.isCommitted()) {
            chain.doFilter(request, response);
        }
    }

    /** Closes the detached connections still open and ends the threads. */
    void stop() {
        threads.close();
    }
}
