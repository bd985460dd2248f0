package org.wsdetach.it;

import jakarta.servlet.Filter;
import org.eclipse.jetty.ee.webapp.WebAppClassLoader;
import org.eclipse.jetty.ee11.annotations.AnnotationConfiguration;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.webapp.WebAppContext;
import org.eclipse.jetty.ee11.websocket.jakarta.server.config.JakartaWebSocketConfiguration;
import org.eclipse.jetty.server.Handler;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A web application deployed from a WAR the way a standalone Jetty's ee11 deployer does it, with the ee11
 * annotation and Jakarta WebSocket modules: for {@code DemoWarOnJettyTest}, the one part of it that names a
 * servlet layer (wsdetach-it-jetty has its ee10 twin).
 */
final class JettyWebApp {

    private final WebAppContext context;

    private JettyWebApp(WebAppContext context) {
        this.context = context;
    }

    /**
     * A {@code WebAppContext} for {@code war} at {@code contextPath}, as a standalone Jetty's ee11 deployer makes
     * one for a WAR in {@code webapps/} with nothing beside it; the WAR is unpacked under {@code temporary}, and the
     * class loader of the web application has {@code parent} as the container's.
     */
    static JettyWebApp of(Path war, String contextPath, Path temporary, ClassLoader parent) throws Exception {
        WebAppContext context = new WebAppContext();
        context.setWar(war.toString());
        context.setContextPath(contextPath);
        context.setTempDirectory(Files.createDirectories(temporary).toFile());
        // What the ee11-annotations and ee11-websocket-jakarta modules add to the default configurations:
        // annotation scanning, which runs the WAR's initializers, and Jetty's Jakarta WebSocket.
        context.addConfiguration(new AnnotationConfiguration(), new JakartaWebSocketConfiguration());
        context.setClassLoader(new WebAppClassLoader(parent, context));
        // A failed initializer fails the start, rather than leaving a context that answers 503.
        context.setThrowUnavailableOnStartupException(true);
        return new JettyWebApp(context);
    }

    Handler handler() {
        return context;
    }

    boolean isAvailable() {
        return context.isAvailable();
    }

    ClassLoader classLoader() {
        return context.getClassLoader();
    }

    /** The patterns of the classes Jetty hides from the web application, an exclusion starting with '-'. */
    List<String> hiddenClasses() {
        return List.of(context.getHiddenClasses());
    }

    /** The web application's filters, by name, in the order requests pass them. */
    List<Map.Entry<String, Filter>> filters() {
        FilterHolder[] holders = context.getServletHandler().getFilters();
        return holders == null ? List.of() : Arrays.stream(holders)
                .map(holder -> Map.entry(holder.getName(), holder.getFilter())).toList();
    }
}
