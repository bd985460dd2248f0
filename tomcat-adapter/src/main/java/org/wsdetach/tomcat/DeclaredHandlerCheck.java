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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks the {@code @DetachOnPeerClose} declarations of a web application's endpoints
 * ({@link DeclaredHandlers#check}), as early as Tomcat lets the adapter see them.
 *
 * <p>At deployment: as a listener, it runs once every initializer has run, Tomcat's {@code WsSci} among them,
 * which deploys the scanned and the {@code ServerApplicationConfig} endpoints; a wrong declaration fails the web
 * application's start (Tomcat logs the exception and marks the context failed). Endpoints deployed later (by
 * Spring's {@code ServerEndpointExporter}, or any {@code ServerContainer.addEndpoint} after the start) reach the
 * adapter only with their first handshake: {@link #refusal} is checked there, and a wrong one is refused with
 * HTTP 500, logged at {@code ERROR} once per endpoint class.
 */
final class DeclaredHandlerCheck implements ServletContextListener {

    private static final System.Logger LOG = System.getLogger(DeclaredHandlerCheck.class.getName());

    /** Per endpoint class: what is wrong with its declaration, empty if nothing. */
    private final Map<Class<?>, Optional<String>> checked = new ConcurrentHashMap<>();

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        WsServerContainer container = containerOf(context);
        List<ServerEndpointConfig> deployed = container == null ? null : DeployedEndpoints.of(container);
        if (deployed == null) {
            return;
        }
        for (ServerEndpointConfig config : deployed) {
            try {
                DeclaredHandlers.check(config.getEndpointClass());
                checked.put(config.getEndpointClass(), Optional.empty());
            } catch (DeploymentException e) {
                throw new IllegalStateException("wsdetach-tomcat cannot deploy web application '"
                        + context.getContextPath() + "': " + e.getMessage(), e);
            }
        }
    }

    /**
     * What is wrong with the declaration of the endpoint a WebSocket handshake for {@code path} reaches.
     *
     * @return the message to refuse the handshake with; empty if the handshake goes on
     */
    Optional<String> refusal(ServletContext context, String path) {
        WsServerContainer container = containerOf(context);
        Class<?> endpoint = container == null ? null : DeployedEndpoints.endpointClassAt(container, path);
        if (endpoint == null) {
            return Optional.empty();
        }
        return checked.computeIfAbsent(endpoint, endpointClass -> {
            try {
                DeclaredHandlers.check(endpointClass);
                return Optional.empty();
            } catch (DeploymentException e) {
                // Once per endpoint class: each later handshake gets the same answer, without a log line.
                LOG.log(System.Logger.Level.ERROR, "wsdetach-tomcat refuses the WebSocket handshakes of an endpoint"
                        + " deployed after web application '" + context.getContextPath() + "' started, with HTTP 500: "
                        + e.getMessage());
                return Optional.of(e.getMessage());
            }
        });
    }

    private static WsServerContainer containerOf(ServletContext context) {
        Object container = context.getAttribute(ServerContainer.class.getName());
        return container instanceof WsServerContainer ? (WsServerContainer) container : null;
    }
}
