package org.wsdetach.jetty;

import jakarta.websocket.server.ServerEndpointConfig;
import org.eclipse.jetty.http.pathmap.PathMappings;
import org.eclipse.jetty.http.pathmap.PathSpec;
import org.eclipse.jetty.websocket.core.server.WebSocketCreator;
import org.eclipse.jetty.websocket.core.server.WebSocketMappings;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * The Jakarta endpoints mapped in a context's {@link WebSocketMappings}, which lists its paths nowhere public:
 * its private {@code mappings}, whose creators (Jetty's {@code JakartaWebSocketCreator}, of ee10 or ee11) hold each
 * endpoint's configuration in a private {@code baseConfig}. Resolved once; on a Jetty that is not as expected,
 * the endpoints are not listed (their declarations are then checked at their first handshake), and detaching is
 * not affected.
 */
final class DeployedEndpoints {

    private static final Field MAPPINGS = field(WebSocketMappings.class, "mappings");

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
                WebSocketCreator creator = mappings.getWebSocketCreator(path);
                Field baseConfig = creator == null ? null : BASE_CONFIGS.get(creator.getClass());
                Object config = baseConfig == null ? null : baseConfig.get(creator);
                if (config instanceof ServerEndpointConfig) {
                    endpoints.add(((ServerEndpointConfig) config).getEndpointClass());
                }
            }
            return endpoints;
        } catch (ReflectiveOperationException | RuntimeException e) {
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
