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
 *
 * <p>Jetty hides its own classes from a web application, and {@code wsdetach-jetty} links against them. When it
 * is the WAR's own (in {@code WEB-INF/lib}), it makes the packages it links against visible to that application
 * through the public {@code getHiddenClassMatcher()} of the application's {@code WebAppContext}, before it
 * touches any of them, and says so in the log; so the WAR needs no context XML.
 */
public final class DetachInitializer implements ServletContainerInitializer {

    static final String FILTER_NAME = "wsdetach";
    private static final System.Logger LOG = System.getLogger(DetachInitializer.class.getName());
    /** A class of Jetty's the adapter links against, to tell whether the web application sees Jetty's classes. */
    private static final String JETTY_CLASS = "org.eclipse.jetty.websocket.core.CoreSession";

    @Override
    public void onStartup(Set<Class<?>> classes, ServletContext context) {
        if (!context.getClass().getName().startsWith("org.eclipse.jetty.")) {
            // A WAR for several containers carries every adapter; each one starts on its own container only.
            return;
        }
        if (!jettyClassesVisible(context)) {
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
                // After every initializer, Jetty's WebSocket one among them, has put its filter in place and mapped
                // the endpoints it deploys.
                filter.checkDeployedEndpoints();
                glue.prepend(context, FILTER_NAME, filter);
            }

            @Override
            public void contextDestroyed(ServletContextEvent event) {
                filter.stop();
            }
        });
    }

    /**
     * Whether this class's loader sees Jetty's classes, after making the packages the adapter links against
     * visible to it if it is a web application's. Reflection only: Jetty's types are what may not be visible.
     */
    private static boolean jettyClassesVisible(ServletContext context) {
        ClassLoader loader = DetachInitializer.class.getClassLoader();
        if (sees(loader, JETTY_CLASS)) {
            // Embedded, with the adapter on the server's class path, or a context configured to show them.
            return true;
        }
        // "org.eclipse.jetty.ee10.servlet.ServletContextHandler$ServletContextApi": the servlet layer's packages.
        String layer = context.getClass().getName().replaceFirst("^(org\\.eclipse\\.jetty\\.ee\\d+\\.).*", "$1");
        String[] linked = {"org.eclipse.jetty.io.", "org.eclipse.jetty.util.", "org.eclipse.jetty.http.",
                "org.eclipse.jetty.server.", "org.eclipse.jetty.websocket.core.", layer + "servlet.",
                layer + "websocket."};
        try {
            Object webApp = loader.getClass().getMethod("getContext").invoke(loader);
            Object hidden = webApp.getClass().getMethod("getHiddenClassMatcher").invoke(webApp);
            hidden.getClass().getMethod("exclude", String[].class).invoke(hidden, (Object) linked);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "wsdetach-jetty cannot see Jetty's classes from web application "
                    + context.getContextPath() + " and cannot make them visible (" + e + "); its sessions will not "
                    + "detach. Put the wsdetach jars on Jetty's class path, or exclude org.eclipse.jetty. from the "
                    + "context's hidden classes.");
            return false;
        }
        if (!sees(loader, JETTY_CLASS)) {
            LOG.log(System.Logger.Level.WARNING, "wsdetach-jetty could not make Jetty's classes visible to web "
                    + "application " + context.getContextPath() + "; its sessions will not detach");
            return false;
        }
        LOG.log(System.Logger.Level.INFO, () -> "wsdetach-jetty made Jetty's " + String.join(", ", linked)
                + " visible to web application " + context.getContextPath() + ", which it links against");
        return true;
    }

    private static boolean sees(ClassLoader loader, String className) {
        try {
            Class.forName(className, false, loader);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
