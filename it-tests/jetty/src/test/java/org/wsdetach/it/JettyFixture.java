package org.wsdetach.it;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import javax.net.ssl.SSLContext;
import java.net.URI;

/** Embedded Jetty 12 ({@link JettyLayer}: ee10 or ee11): with wsdetach's initializer, and without it. */
final class JettyFixture implements ServerFixture {

    @Override
    public RunningServer start(Class<?>... endpoints) throws Exception {
        return start(0, null, true, endpoints);
    }

    @Override
    public RunningServer startSecure(SSLContext tls, Class<?>... endpoints) throws Exception {
        return start(0, tls, true, endpoints);
    }

    @Override
    public RunningServer startOn(int port, Class<?>... endpoints) throws Exception {
        return start(port, null, true, endpoints);
    }

    @Override
    public RunningServer startStock(Class<?>... endpoints) throws Exception {
        return start(0, null, false, endpoints);
    }

    private static RunningServer start(int port, SSLContext tls, boolean detach, Class<?>... endpoints)
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
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(JettyLayer.context(detach, endpoints));
        try {
            server.start();
        } catch (Exception e) {
            server.stop();
            throw e;
        }
        String scheme = tls == null ? "ws" : "wss";
        return new RunningServer() {
            @Override
            public URI uri(String path) {
                return URI.create(scheme + "://127.0.0.1:" + connector.getLocalPort() + path);
            }

            @Override
            public void close() {
                try {
                    server.stop();
                } catch (Exception e) {
                    throw new IllegalStateException("Jetty did not stop", e);
                }
            }
        };
    }
}
