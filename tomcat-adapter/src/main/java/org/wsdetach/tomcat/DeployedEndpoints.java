package org.wsdetach.tomcat;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerEndpointConfig;
import org.apache.tomcat.websocket.server.WsServerContainer;
import org.wsdetach.core.DeclaredHandlers;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The endpoints deployed in a {@link WsServerContainer}, which lists them nowhere public and tells nobody of the
 * ones deployed later: its two private maps, of exact paths and of path templates, whose values hold each
 * endpoint's configuration in a field {@code config}. Resolved once; on a Tomcat whose container is not as
 * expected, the declarations are not checked, and detaching is not affected.
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
     * From now on, makes every endpoint deployed in {@code container} pass {@link DeclaredHandlers#check} first:
     * the container's maps are replaced by copies that check an entry before they take it. A wrong declaration is
     * thrown from {@code addEndpoint} as the {@link DeploymentException} the check throws, which Tomcat takes as it
     * takes its own: it fails the web application's WebSocket deployment.
     *
     * @return whether it is done; false if this Tomcat's container is not as expected, and nothing was changed
     */
    static boolean guard(WsServerContainer container) {
        if (EXACT_MATCHES == null || TEMPLATE_MATCHES == null) {
            return false;
        }
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> exact = (Map<String, Object>) EXACT_MATCHES.get(container);
            @SuppressWarnings("unchecked")
            Map<Integer, ConcurrentSkipListMap<String, Object>> templates =
                    (Map<Integer, ConcurrentSkipListMap<String, Object>>) TEMPLATE_MATCHES.get(container);
            GuardedTemplateGroups guardedTemplates = new GuardedTemplateGroups(templates);
            GuardedMatches guardedExact = new GuardedMatches(exact);
            TEMPLATE_MATCHES.set(container, guardedTemplates);
            EXACT_MATCHES.set(container, guardedExact);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Checks the endpoint of one of Tomcat's matches before the container takes it.
     *
     * @throws DeploymentException (undeclared: a map's {@code put} cannot declare it, and Tomcat's
     *                             {@code addEndpoint}, which calls it, does) if its declaration is wrong
     */
    private static void admit(Object match) {
        try {
            DeclaredHandlers.check(configOf(match).getEndpointClass());
        } catch (DeploymentException e) {
            throw DeployedEndpoints.<RuntimeException>undeclared(e);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("wsdetach-tomcat cannot read the endpoint of " + match, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T undeclared(Throwable checked) throws T {
        throw (T) checked;
    }

    /** Tomcat's map of exact paths, to which it adds with {@code put}. */
    private static final class GuardedMatches extends ConcurrentHashMap<String, Object> {
        GuardedMatches(Map<String, Object> deployed) {
            super(deployed);
        }

        @Override
        public Object put(String path, Object match) {
            admit(match);
            return super.put(path, match);
        }
    }

    /**
     * The templates of one segment count, to which Tomcat adds with {@code putIfAbsent} (its {@code put} only puts
     * back a match it took before); sorted as Tomcat's are, for its first-match search.
     */
    private static final class GuardedTemplates extends ConcurrentSkipListMap<String, Object> {
        GuardedTemplates(SortedMap<String, Object> deployed) {
            super(deployed);
        }

        @Override
        public Object putIfAbsent(String path, Object match) {
            admit(match);
            return super.putIfAbsent(path, match);
        }
    }

    /**
     * Tomcat's map of template maps by segment count: the template map Tomcat offers for a new count is taken as a
     * guarded one, which Tomcat then reads back and adds to.
     */
    private static final class GuardedTemplateGroups
            extends ConcurrentHashMap<Integer, ConcurrentSkipListMap<String, Object>> {
        GuardedTemplateGroups(Map<Integer, ConcurrentSkipListMap<String, Object>> deployed) {
            for (Map.Entry<Integer, ConcurrentSkipListMap<String, Object>> group : deployed.entrySet()) {
                super.putIfAbsent(group.getKey(), new GuardedTemplates(group.getValue()));
            }
        }

        @Override
        public ConcurrentSkipListMap<String, Object> putIfAbsent(Integer segments,
                                                                 ConcurrentSkipListMap<String, Object> templates) {
            return super.putIfAbsent(segments, new GuardedTemplates(templates));
        }
    }

    /**
     * The configuration in one of Tomcat's private holders of it, {@code ExactPathMatch} and
     * {@code TemplatePathMatch}: classes on Tomcat 10.1, records on 11, with a field {@code config} in both.
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
