package org.wsdetach.jetty;

import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;

import java.util.Set;

/**
 * Makes the WebSocket sessions of one Jetty web application detachable, ee10 or ee11. Jetty finds it by itself
 * in a WAR that has {@code wsdetach-jetty} in {@code WEB-INF/lib} (with annotation scanning, as a
 * {@code WebAppContext} has by default); an embedded {@code ServletContextHandler} adds it as it configures
 * Jetty's own WebSocket initializer:
 *
 * <pre>{@code
 * JakartaWebSocketServletContainerInitializer.configure(context, (servletContext, container) ->
 *         container.addEndpoint(EchoEndpoint.class));
 * context.addServletContainerInitializer(new DetachInitializer());
 * }</pre>
 *
 * Once the application's other initializers have run, it puts a filter ahead of Jetty's WebSocket upgrade
 * filter, which performs WebSocket handshakes itself, through Jetty's own mappings; the application's detach
 * threads start with its first handshake and stop with it, closing the detached connections still open.
 */
public final class DetachInitializer implements ServletContainerInitializer {

    static final String FILTER_NAME = "wsdetach";
    private static final System.Logger LOG = System.getLogger(DetachInitializer.class.getName());

    @Override
    public void onStartup(Set<Class<?>> classes, ServletContext context) {
        if (!context.getClass().getName().startsWith("org.eclipse.jetty.")) {
            // A WAR for several containers carries every adapter; each one starts on its own container only.
            return;
        }
        EeGlue glue = EeGlue.of(context);
        if (glue == null) {
            LOG.log(System.Logger.Level.WARNING, "wsdetach-jetty supports Jetty's ee10 and ee11 servlet layers, not "
                    + context.getClass().getName());
            return;
        }
        String name = FILTER_NAME + (context.getContextPath().isEmpty() ? "" : "-" + context.getContextPath().substring(1));
        UpgradeFilter filter = new UpgradeFilter(glue, context, name);
        context.addListener(new ServletContextListener() {
            @Override
            public void contextInitialized(ServletContextEvent event) {
                // After every initializer, Jetty's WebSocket one among them, has put its filter in place.
                glue.prepend(context, FILTER_NAME, filter);
            }

            @Override
            public void contextDestroyed(ServletContextEvent event) {
                filter.stop();
            }
        });
    }
}
