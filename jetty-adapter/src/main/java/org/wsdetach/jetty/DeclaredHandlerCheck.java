package org.wsdetach.jetty;

import jakarta.websocket.DeploymentException;
import org.eclipse.jetty.websocket.core.server.WebSocketMappings;
import org.wsdetach.core.DeclaredHandlers;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks the {@code @DetachOnPeerClose} declarations of a web application's endpoints
 * ({@link DeclaredHandlers#check}), as early as Jetty lets the adapter see them: once every initializer has run,
 * Jetty's WebSocket one among them, a wrong declaration fails the web application's start; an endpoint mapped
 * later ({@code ServerContainer.addEndpoint} on the running application) reaches the adapter only with its first
 * handshake, which {@link #refusal} refuses, as every later one, with HTTP 500, logged at {@code ERROR} once per
 * endpoint class.
 */
final class DeclaredHandlerCheck {

    private static final System.Logger LOG = System.getLogger(DeclaredHandlerCheck.class.getName());

    /** Per endpoint class: what is wrong with its declaration, empty if nothing. */
    private final Map<Class<?>, Optional<String>> checked = new ConcurrentHashMap<>();
    private final String contextPath;

    DeclaredHandlerCheck(String contextPath) {
        this.contextPath = contextPath;
    }

    /**
     * Checks the endpoints mapped so far.
     *
     * @throws IllegalStateException if one declares a handler no instance can be made of
     */
    void checkDeployed(WebSocketMappings mappings) {
        List<Class<?>> deployed = mappings == null ? null : DeployedEndpoints.of(mappings);
        if (deployed == null) {
            return;
        }
        for (Class<?> endpoint : deployed) {
            try {
                DeclaredHandlers.check(endpoint);
                checked.put(endpoint, Optional.empty());
            } catch (DeploymentException e) {
                throw new IllegalStateException("wsdetach-jetty cannot deploy web application '" + contextPath + "': "
                        + e.getMessage(), e);
            }
        }
    }

    /**
     * What is wrong with the declaration of {@code endpointClass}, whose handshake Jetty has negotiated.
     *
     * @return the message the handshake is refused for; empty if it goes on
     */
    Optional<String> refusal(Class<?> endpointClass) {
        return checked.computeIfAbsent(endpointClass, type -> {
            try {
                DeclaredHandlers.check(type);
                return Optional.empty();
            } catch (DeploymentException e) {
                // Once per endpoint class: each later handshake gets the same answer, without a log line.
                LOG.log(System.Logger.Level.ERROR, "wsdetach-jetty refuses the WebSocket handshakes of an endpoint"
                        + " mapped after web application '" + contextPath + "' started, with HTTP 500: "
                        + e.getMessage());
                return Optional.of(e.getMessage());
            }
        });
    }
}
