package org.wsdetach.it;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerApplicationConfig;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpointConfig;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.Handler;
import org.wsdetach.jetty.DetachInitializer;

import java.util.Set;

/** The servlet layer the Jetty kit runs on: ee10. The only source that differs between the two Jetty runs. */
final class JettyLayer {

    static final String NAME = "ee10";

    private JettyLayer() {
    }

    /** A context at "/" serving {@code endpoints} (annotated classes, or ServerApplicationConfig ones). */
    static Handler context(boolean detach, Class<?>... endpoints) {
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        JakartaWebSocketServletContainerInitializer.configure(context, (servletContext, container) -> {
            for (Class<?> endpoint : endpoints) {
                add(container, endpoint);
            }
        });
        if (detach) {
            context.addServletContainerInitializer(new DetachInitializer());
        }
        return context;
    }

    private static void add(ServerContainer container, Class<?> endpoint) throws DeploymentException {
        if (!ServerApplicationConfig.class.isAssignableFrom(endpoint)) {
            container.addEndpoint(endpoint);
            return;
        }
        ServerApplicationConfig config;
        try {
            config = (ServerApplicationConfig) endpoint.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new DeploymentException("cannot make " + endpoint.getName(), e);
        }
        for (ServerEndpointConfig programmatic : config.getEndpointConfigs(Set.of())) {
            container.addEndpoint(programmatic);
        }
    }
}
