package org.wsdetach.demo;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerContainer;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.wsdetach.jetty.DetachInitializer;

import javax.net.ssl.SSLContext;

/**
 * An embedded Eclipse Jetty 12 (servlet layer ee10) serving WebSocket endpoints at context "/", with wsdetach or
 * without: the way an application embeds Jetty, {@link JakartaWebSocketServletContainerInitializer#configure}
 * registering the endpoints and {@link DetachInitializer} making their sessions detachable.
 */
public final class JettyServer implements AutoCloseable {

    private final Server server;
    private final ServerConnector connector;

    private JettyServer(Server server, ServerConnector connector) {
        this.server = server;
        this.connector = connector;
    }

    /**
     * Starts Jetty on {@code host} and {@code port} (0 for any free port).
     *
     * @param tls       the server's TLS context ({@code wss}), or null for plain {@code ws}
     * @param detach    whether the sessions can be detached (false: Jetty exactly as it is)
     * @param endpoints the {@code @ServerEndpoint} classes
     * @throws Exception if Jetty cannot start, for example because the port is taken (Jetty's own exception)
     */
    public static JettyServer start(String host, int port, SSLContext tls, boolean detach, Class<?>... endpoints)
            throws Exception {
        Server server = new Server();
        ServerConnector connector;
        if (tls == null) {
            connector = new ServerConnector(server);
        } else {
            SslContextFactory.Server factory = new SslContextFactory.Server();
            factory.setSslContext(tls);
            connector = new ServerConnector(server, factory);
        }
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        JakartaWebSocketServletContainerInitializer.configure(context,
                (servletContext, container) -> addEndpoints(container, endpoints));
        if (detach) {
            context.addServletContainerInitializer(new DetachInitializer());
        }
        server.setHandler(context);
        JettyServer running = new JettyServer(server, connector);
        try {
            server.start();
        } catch (Exception | Error e) {
            try {
                server.stop();
            } catch (Exception stopFailure) {
                e.addSuppressed(stopFailure);
            }
            throw e;
        }
        return running;
    }

    private static void addEndpoints(ServerContainer container, Class<?>... endpoints) throws DeploymentException {
        for (Class<?> endpoint : endpoints) {
            container.addEndpoint(endpoint);
        }
    }

    /** @return the bound port */
    public int port() {
        return connector.getLocalPort();
    }

    /** @return Jetty's server, for example to look at its state */
    public Server server() {
        return server;
    }

    /** Stops Jetty. */
    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("Jetty did not stop", e);
        }
    }
}
