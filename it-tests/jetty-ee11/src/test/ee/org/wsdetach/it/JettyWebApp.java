package org.wsdetach.it;

import jakarta.servlet.Filter;
import org.eclipse.jetty.ee.webapp.WebAppClassLoader;
import org.eclipse.jetty.ee11.annotations.AnnotationConfiguration;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.webapp.WebAppContext;
import org.eclipse.jetty.ee11.websocket.jakarta.server.config.JakartaWebSocketConfiguration;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.xml.XmlConfiguration;

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
     * A {@code WebAppContext} configured by {@code contextXml}, a deployer's context XML for ee11, with
     * {@code properties} (such as {@code jetty.webapps}); the WAR is unpacked under {@code temporary}, and the
     * class loader of the web application has {@code parent} as the container's.
     */
    static JettyWebApp configure(Server server, Path contextXml, Map<String, String> properties, Path temporary,
                                 ClassLoader parent) throws Exception {
        WebAppContext context = new WebAppContext();
        XmlConfiguration xml = new XmlConfiguration(ResourceFactory.of(server).newResource(contextXml));
        xml.getProperties().putAll(properties);
        xml.configure(context);
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

    /** The web application's filters, by name, in the order requests pass them. */
    List<Map.Entry<String, Filter>> filters() {
        FilterHolder[] holders = context.getServletHandler().getFilters();
        return holders == null ? List.of() : Arrays.stream(holders)
                .map(holder -> Map.entry(holder.getName(), holder.getFilter())).toList();
    }
}
