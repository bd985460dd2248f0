package org.wsdetach.jetty;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerEndpointConfig;
import org.eclipse.jetty.http.pathmap.MappedResource;
import org.eclipse.jetty.http.pathmap.PathMappings;
import org.eclipse.jetty.http.pathmap.PathSpec;
import org.eclipse.jetty.websocket.core.server.WebSocketCreator;
import org.eclipse.jetty.websocket.core.server.WebSocketMappings;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.wsdetach.core.DeclaredHandlers;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;

/**
 * The Jakarta endpoints mapped in a context's {@link WebSocketMappings}, which lists its paths nowhere public and
 * tells nobody of the ones mapped later: its private {@code mappings}, whose negotiators (Jetty's internal
 * {@code CreatorNegotiator}) hold creators (Jetty's {@code JakartaWebSocketCreator}, of ee10 or ee11) that hold
 * each endpoint's configuration in a private {@code baseConfig}. Resolved once; on a Jetty that is not as
 * expected, the endpoints are not listed or not guarded (their declarations are then checked at their first
 * handshake), and detaching is not affected.
 */
final class DeployedEndpoints {

    private static final Field MAPPINGS = field(WebSocketMappings.class, "mappings");
    private static final Method CREATOR = creatorOfNegotiator();

    private static final ClassValue<Field> BASE_CONFIGS = new ClassValue<>() {
        @Override
        protected Field computeValue(Class<?> creator) {
            return field(creator, "baseConfig");
        }
    };

    private DeployedEndpoints() {
    }

    /**
     * The classes of the Jakarta endpoints mapped so far; creators of other kinds (Jetty's own API) are left out.
     *
     * @return them, or null if this Jetty does not keep them as the adapter expects
     */
    static List<Class<?>> of(WebSocketMappings mappings) {
        if (MAPPINGS == null) {
            return null;
        }
        try {
            List<Class<?>> endpoints = new ArrayList<>();
            for (PathSpec path : ((PathMappings<?>) MAPPINGS.get(mappings)).keySet()) {
                Class<?> endpoint = endpointOf(mappings.getWebSocketCreator(path));
                if (endpoint != null) {
                    endpoints.add(endpoint);
                }
            }
            return endpoints;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * From now on, makes every Jakarta endpoint mapped in {@code mappings} pass {@link DeclaredHandlers#check}
     * first: Jetty's path mappings are replaced by a copy that checks a negotiator before it takes it. A wrong
     * declaration is thrown from the mapping as an {@link IllegalArgumentException} whose cause is the check's
     * {@link DeploymentException}; Jetty's {@code addEndpoint} throws it as the cause of its own.
     *
     * @return whether it is done; false if this Jetty is not as expected, and nothing was changed
     */
    static boolean guard(WebSocketMappings mappings) {
        if (MAPPINGS == null || CREATOR == null) {
            return false;
        }
        try {
            @SuppressWarnings("unchecked")
            PathMappings<WebSocketNegotiator> mapped = (PathMappings<WebSocketNegotiator>) MAPPINGS.get(mappings);
            MAPPINGS.set(mappings, new GuardedMappings(mapped));
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /** Jetty's path mappings of one context, which check each Jakarta endpoint they take. */
    private static final class GuardedMappings extends PathMappings<WebSocketNegotiator> {
        GuardedMappings(PathMappings<WebSocketNegotiator> mapped) {
            for (MappedResource<WebSocketNegotiator> mapping : mapped) {
                super.put(mapping.getPathSpec(), mapping.getResource());
            }
        }

        @Override
        public WebSocketNegotiator put(PathSpec path, WebSocketNegotiator negotiator) {
            try {
                Class<?> endpoint = CREATOR.getDeclaringClass().isInstance(negotiator)
                        ? endpointOf((WebSocketCreator) CREATOR.invoke(negotiator)) : null;
                if (endpoint != null) {
                    DeclaredHandlers.check(endpoint);
                }
            } catch (DeploymentException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("wsdetach-jetty cannot read the endpoint mapped at " + path, e);
            }
            return super.put(path, negotiator);
        }
    }

    /** The class of the Jakarta endpoint {@code creator} creates; null if it is no Jakarta creator. */
    private static Class<?> endpointOf(WebSocketCreator creator) throws IllegalAccessException {
        Field baseConfig = creator == null ? null : BASE_CONFIGS.get(creator.getClass());
        Object config = baseConfig == null ? null : baseConfig.get(creator);
        return config instanceof ServerEndpointConfig ? ((ServerEndpointConfig) config).getEndpointClass() : null;
    }

    /** {@code CreatorNegotiator.getWebSocketCreator}, public in a package Jetty's module does not export. */
    private static Method creatorOfNegotiator() {
        try {
            Method creator = Class.forName("org.eclipse.jetty.websocket.core.server.internal.CreatorNegotiator", false,
                    WebSocketMappings.class.getClassLoader()).getMethod("getWebSocketCreator");
            creator.setAccessible(true);
            return creator;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return null;
        }
    }

    private static Field field(Class<?> owner, String name) {
        try {
            Field field = owner.getDeclaredField(name);
            field.setAccessible(true);
            return field;
        } catch (NoSuchFieldException | RuntimeException e) {
            return null;
        }
    }
}
