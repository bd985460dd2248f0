package org.wsdetach.it;

import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.wsdetach.jetty.DetachInitializer;
import org.wsdetach.quickstart.EchoEndpoint;

/** The README's quick start on embedded Jetty, ee11: the README shows ee10's, which differs in its imports only. */
final class JettyQuickStart {

    private JettyQuickStart() {
    }

    /** A started server, and the port its connector is bound to. */
    record Started(Server server, int port) {
    }

    /** Starts Jetty serving {@link EchoEndpoint} on 127.0.0.1 and a free port. */
    static Started start() throws Exception {
        // README: jetty-server
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);                            // any free port
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler();
        JakartaWebSocketServletContainerInitializer.configure(context, (servletContext, container) ->
                container.addEndpoint(EchoEndpoint.class));
        context.addServletContainerInitializer(new DetachInitializer());
        server.setHandler(context);
        server.start();
        int port = connector.getLocalPort();             // ws://127.0.0.1:<port>/echo
        // README: end
        return new Started(server, port);
    }
}
