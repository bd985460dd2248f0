package org.wsdetach.tomcat;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpointConfig;
import org.apache.tomcat.websocket.server.WsServerContainer;
import org.wsdetach.core.DeclaredHandlers;

import java.util.List;

/**
 * Checks the {@code @DetachOnPeerClose} declarations of a web application's endpoints
 * ({@link DeclaredHandlers#check}) when they are deployed.
 *
 * <p>As a listener, it runs once every initializer has run, Tomcat's {@code WsSci} among them, which deploys the
 * scanned and the {@code ServerApplicationConfig} endpoints: a wrong declaration fails the web application's
 * start (Tomcat logs the exception and marks the context failed). Then it guards the container
 * ({@link DeployedEndpoints#guard}), so that an endpoint deployed later (by Spring's
 * {@code ServerEndpointExporter}, or any {@code ServerContainer.addEndpoint} on the running application) with a
 * wrong declaration makes its {@code addEndpoint} throw the {@link DeploymentException}.
 */
final class DeclaredHandlerCheck implements ServletContextListener {

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        Object attribute = context.getAttribute(ServerContainer.class.getName());
        WsServerContainer container = attribute instanceof WsServerContainer ? (WsServerContainer) attribute : null;
        List<ServerEndpointConfig> deployed = container == null ? null : DeployedEndpoints.of(container);
        if (deployed == null) {
            return;
        }
        for (ServerEndpointConfig config : deployed) {
            try {
                DeclaredHandlers.check(config.getEndpointClass());
            } catch (DeploymentException e) {
                throw new IllegalStateException("wsdetach-tomcat cannot deploy web application '"
                        + context.getContextPath() + "': " + e.getMessage(), e);
            }
        }
        DeployedEndpoints.guard(container);
    }
}
