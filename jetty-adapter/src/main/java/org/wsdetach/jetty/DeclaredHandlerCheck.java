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
 * ({@link DeclaredHandlers#check}) when they are mapped: once every initializer has run, Jetty's WebSocket one
 * among them, a wrong declaration fails the web application's start; an endpoint mapped later
 * ({@code ServerContainer.addEndpoint} on the running application) with a wrong one makes its
 * {@code addEndpoint} fail. Where Jetty's mappings cannot be read or guarded (on the module path without the
 * opens the README names) and for a configuration no mapping holds ({@code upgradeHttpToWebSocket}), the
 * declaration is checked at the handshake instead: {@link #refusal} refuses it, as every later one, with HTTP
 * 500, logged at {@code ERROR} once per endpoint class.
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
     * Checks the endpoints mapped so far, and guards {@code mappings} ({@link DeployedEndpoints#guard}) so that
     * mapping a wrongly declared one later fails.
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
        DeployedEndpoints.guard(mappings);
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
                        + " of web application '" + contextPath + "' it could not check when it was mapped, with"
                        + " HTTP 500: " + e.getMessage());
                return Optional.of(e.getMessage());
            }
        });
    }
}
