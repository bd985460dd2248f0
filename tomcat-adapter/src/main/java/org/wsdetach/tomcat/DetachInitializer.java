package org.wsdetach.tomcat;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Makes the WebSocket sessions of one Tomcat web application detachable. Tomcat finds it by itself in a WAR
 * that has {@code wsdetach-tomcat} in {@code WEB-INF/lib}, and in an embedded Tomcat that scans its class path
 * ({@code Tomcat.addWebapp}); a context added with {@code Tomcat.addContext} adds it as it adds Tomcat's
 * {@code WsSci}:
 *
 * <pre>{@code
 * context.addServletContainerInitializer(new WsSci(), null);
 * context.addServletContainerInitializer(new DetachInitializer(), null);
 * }</pre>
 *
 * and Spring Boot, which runs no initializers from jars, with a bean:
 *
 * <pre>{@code
 * @Bean
 * ServletContextInitializer wsdetach() {
 *     return servletContext -> new DetachInitializer().onStartup(null, servletContext);
 * }
 * }</pre>
 *
 * It registers a filter ahead of Tomcat's WebSocket filter, for every request, which wraps WebSocket handshakes
 * only; the application's detach threads start with its first handshake and stop with it, closing the
 * detached connections still open.
 */
public final class DetachInitializer implements ServletContainerInitializer {

    static final String FILTER_NAME = "wsdetach";
    private static final System.Logger LOG = System.getLogger(DetachInitializer.class.getName());

    @Override
    public void onStartup(Set<Class<?>> classes, ServletContext context) {
        if (!onTomcat(context)) {
            // A WAR for several containers carries every adapter; each one starts on its own container only.
            return;
        }
        List<String> missing = TomcatInternals.unresolved();
        if (!missing.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "wsdetach-tomcat cannot detach on this Tomcat: it lacks " + missing);
        }
        String name = "wsdetach" + (context.getContextPath().isEmpty() ? "" : "-" + context.getContextPath().substring(1));
        UpgradeFilter filter = new UpgradeFilter(name);
        FilterRegistration.Dynamic registration = context.addFilter(FILTER_NAME, filter);
        if (registration == null) {
            // Added twice (found by scanning and added by hand): the first one does it.
            return;
        }
        registration.setAsyncSupported(true);
        registration.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
        context.addListener(new DeclaredHandlerCheck());
        context.addListener(new ServletContextListener() {
            @Override
            public void contextDestroyed(ServletContextEvent event) {
                filter.stop();
            }
        });
    }

    /** Whether {@code context} is Tomcat's, with Tomcat's WebSocket implementation visible: checked by name. */
    private static boolean onTomcat(ServletContext context) {
        if (!context.getClass().getName().startsWith("org.apache.catalina.")) {
            return false;
        }
        try {
            Class.forName("org.apache.tomcat.websocket.server.WsHttpUpgradeHandler", false,
                    DetachInitializer.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
