package org.wsdetach.jetty;

import jakarta.servlet.Filter;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRequest;
import jakarta.websocket.Session;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.FrameHandler;

/**
 * What differs between Jetty's ee10 and ee11 servlet and Jakarta WebSocket layers: the same calls on classes
 * of two packages. Everything else of the adapter is on websocket-core, which both share.
 */
interface EeGlue {

    /** The glue of the servlet layer {@code context} belongs to; null if it is neither ee10 nor ee11. */
    static EeGlue of(ServletContext context) {
        String type = context.getClass().getName();
        if (type.startsWith("org.eclipse.jetty.ee10.")) {
            return new Ee10Glue();
        }
        if (type.startsWith("org.eclipse.jetty.ee11.")) {
            return new Ee11Glue();
        }
        return null;
    }

    /** Jetty's core request under a servlet request; null if there is none. */
    Request request(ServletRequest request);

    Response response(Request request);

    ContextHandler contextHandler(ServletContext context);

    /** Puts {@code filter} first, for every request path, ahead of Jetty's own WebSocket filter. */
    void prepend(ServletContext context, String name, Filter filter);

    /** The core session of a Jakarta session of this layer; null if it is not one. */
    CoreSession coreSession(Session session);

    /** The class of the endpoint that a frame handler of this layer serves; null if it is not one. */
    Class<?> endpointClass(FrameHandler handler);

    /** The id of the Jakarta session of a frame handler of this layer; null if it is not one, or has none yet. */
    String sessionId(FrameHandler handler);
}
