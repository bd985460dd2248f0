package org.wsdetach.tomcat;

import jakarta.websocket.server.ServerEndpointConfig;
import org.apache.tomcat.websocket.server.WsServerContainer;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The endpoints deployed in a {@link WsServerContainer}, which lists them nowhere public: its two private maps,
 * of exact paths and of path templates, whose values hold each endpoint's configuration, and the configuration
 * its {@code findMapping} finds for a path (in a result whose type is package-private on Tomcat 10.1). Resolved once; on a Tomcat whose container is not as expected, the
 * declarations are not checked, and detaching is not affected.
 */
final class DeployedEndpoints {

    private static final Field EXACT_MATCHES = field("configExactMatchMap");
    private static final Field TEMPLATE_MATCHES = field("configTemplateMatchMap");

    private DeployedEndpoints() {
    }

    /**
     * The configurations of the endpoints deployed in {@code container} so far.
     *
     * @return them, or null if this Tomcat's container does not keep them as the adapter expects
     */
    static List<ServerEndpointConfig> of(WsServerContainer container) {
        if (EXACT_MATCHES == null || TEMPLATE_MATCHES == null) {
            return null;
        }
        try {
            List<ServerEndpointConfig> configs = new ArrayList<>();
            for (Object match : ((Map<?, ?>) EXACT_MATCHES.get(container)).values()) {
                configs.add(configOf(match));
            }
            for (Object templates : ((Map<?, ?>) TEMPLATE_MATCHES.get(container)).values()) {
                for (Object match : ((Map<?, ?>) templates).values()) {
                    configs.add(configOf(match));
                }
            }
            return configs;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The class of the endpoint a WebSocket handshake for {@code path} reaches: Tomcat's public
     * {@code findMapping} answers with a result whose type and getter are package-private.
     *
     * @return it, or null if no endpoint is deployed at {@code path} or this Tomcat's result is not as expected
     */
    static Class<?> endpointClassAt(WsServerContainer container, String path) {
        Object mapping = container.findMapping(path);
        try {
            return mapping == null ? null : configOf(mapping).getEndpointClass();
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * The configuration in one of Tomcat's private holders of it, {@code ExactPathMatch}, {@code TemplatePathMatch}
     * and {@code WsMappingResult}: classes on Tomcat 10.1, records on 11, with a field {@code config} in both.
     */
    private static ServerEndpointConfig configOf(Object holder) throws IllegalAccessException {
        return (ServerEndpointConfig) CONFIG_FIELDS.get(holder.getClass()).get(holder);
    }

    private static final ClassValue<Field> CONFIG_FIELDS = new ClassValue<>() {
        @Override
        protected Field computeValue(Class<?> holder) {
            try {
                Field config = holder.getDeclaredField("config");
                config.setAccessible(true);
                return config;
            } catch (NoSuchFieldException e) {
                throw new IllegalStateException(holder.getName() + " has no field config", e);
            }
        }
    };

    private static Field field(String name) {
        try {
            Field field = WsServerContainer.class.getDeclaredField(name);
            field.setAccessible(true);
            return field;
        } catch (NoSuchFieldException | RuntimeException e) {
            return null;
        }
    }
}
