package org.wsdetach.jetty;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRequest;
import jakarta.websocket.Session;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.FilterMapping;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletContextRequest;
import org.eclipse.jetty.ee11.servlet.ServletHandler;
import org.eclipse.jetty.ee11.websocket.jakarta.common.JakartaWebSocketFrameHandler;
import org.eclipse.jetty.ee11.websocket.jakarta.common.JakartaWebSocketSession;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.FrameHandler;

import java.util.EnumSet;

/** {@link EeGlue} for Jetty's ee11 layer. */
final class Ee11Glue implements EeGlue {

    @Override
    public Request request(ServletRequest request) {
        return ServletContextRequest.getServletContextRequest(request);
    }

    @Override
    public Response response(Request request) {
        return ((ServletContextRequest) request).getServletContextResponse();
    }

    @Override
    public ContextHandler contextHandler(ServletContext context) {
        return ServletContextHandler.getServletContextHandler(context);
    }

    @Override
    public void prepend(ServletContext context, String name, Filter filter) {
        ServletHandler handler = ServletContextHandler.getServletContextHandler(context).getServletHandler();
        FilterHolder holder = new FilterHolder(filter);
        holder.setName(name);
        holder.setAsyncSupported(true);
        handler.prependFilter(holder);
        FilterMapping mapping = new FilterMapping();
        mapping.setFilterName(name);
        mapping.setPathSpec("/*");
        mapping.setDispatcherTypes(EnumSet.of(DispatcherType.REQUEST));
        handler.prependFilterMapping(mapping);
    }

    @Override
    public CoreSession coreSession(Session session) {
        return session instanceof JakartaWebSocketSession ? ((JakartaWebSocketSession) session).getCoreSession() : null;
    }

    @Override
    public Class<?> endpointClass(FrameHandler handler) {
        return handler instanceof JakartaWebSocketFrameHandler
                ? ((JakartaWebSocketFrameHandler) handler).getEndpoint().getClass() : null;
    }

    @Override
    public String sessionId(FrameHandler handler) {
        Session session = handler instanceof JakartaWebSocketFrameHandler
                ? ((JakartaWebSocketFrameHandler) handler).getSession() : null;
        return session == null ? null : session.getId();
    }
}
