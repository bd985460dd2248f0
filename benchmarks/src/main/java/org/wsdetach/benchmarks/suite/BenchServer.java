package org.wsdetach.benchmarks.suite;

import org.glassfish.tyrus.container.grizzly.server.GrizzlyServerContainer;
import org.glassfish.tyrus.server.Server;
import org.glassfish.tyrus.server.TyrusServerContainer;
import org.glassfish.tyrus.spi.ServerContainer;
import org.wsdetach.demo.JettyServer;
import org.wsdetach.demo.TomcatServer;
import org.wsdetach.tyrus.DetachingServerContainerFactory;

import javax.net.ssl.SSLContext;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link BenchEndpoint} served by one container, with the adapter or exactly as the container is without it,
 * on 127.0.0.1 and an ephemeral port.
 *
 * <p>Without the adapter: Tomcat and Jetty run the same embedded server without wsdetach's
 * {@code DetachInitializer} in the context (the demo's {@link TomcatServer} and {@link JettyServer} with
 * {@code detach} false); Tyrus runs its own Grizzly container, {@link GrizzlyServerContainer}, created directly
 * instead of through {@code ServiceLoader}, which finds wsdetach's {@link DetachingServerContainerFactory}.
 * Tyrus' own container binds every interface, not 127.0.0.1 alone: it has no setting for the address.
 */
final class BenchServer implements AutoCloseable {

    /** The containers measured. */
    enum Container {
        TYRUS, TOMCAT, JETTY;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static final String HOST = "127.0.0.1";

    private final int port;
    private final boolean secure;
    private final AutoCloseable stop;

    private BenchServer(int port, boolean secure, AutoCloseable stop) {
        this.port = port;
        this.secure = secure;
        this.stop = stop;
    }

    /**
     * @param adapter      whether wsdetach's adapter is in (sessions can detach) or not (the container as it is)
     * @param tls          the server's TLS context, or null for plain {@code ws}; only with the adapter on Tyrus
     * @param connectorSettings Tomcat connector properties (Tomcat only), for example its connection limit
     */
    static BenchServer start(Container container, boolean adapter, SSLContext tls,
                             Map<String, String> connectorSettings) throws Exception {
        return switch (container) {
            case TYRUS -> adapter ? tyrus(tls) : stockTyrus(tls);
            case TOMCAT -> {
                TomcatServer server = TomcatServer.start(HOST, 0, tls, adapter, TomcatServer.NIO,
                        connectorSettings, BenchEndpoint.class);
                yield new BenchServer(server.port(), tls != null, server);
            }
            case JETTY -> {
                JettyServer server = JettyServer.start(HOST, 0, tls, adapter, BenchEndpoint.class);
                yield new BenchServer(server.port(), tls != null, server);
            }
        };
    }

    private static BenchServer tyrus(SSLContext tls) throws Exception {
        Map<String, Object> properties = new HashMap<>();
        properties.put(DetachingServerContainerFactory.HOST, HOST);
        if (tls != null) {
            properties.put(DetachingServerContainerFactory.SSL_CONTEXT, tls);
        }
        // Tyrus' Server reads port 0 as its default port, 8025, and -1 as "any free port".
        Server server = new Server(HOST, -1, "/", properties, BenchEndpoint.class);
        server.start();
        return new BenchServer(server.getPort(), tls != null, server::stop);
    }

    private static BenchServer stockTyrus(SSLContext tls) throws Exception {
        if (tls != null) {
            throw new IllegalArgumentException("the suite runs stock Tyrus over plain ws only");
        }
        ServerContainer container = new GrizzlyServerContainer().createContainer(Map.of());
        container.addEndpoint(BenchEndpoint.class);
        container.start("/", 0);
        return new BenchServer(((TyrusServerContainer) container).getPort(), false, container::stop);
    }

    int port() {
        return port;
    }

    boolean secure() {
        return secure;
    }

    @Override
    public void close() throws Exception {
        stop.close();
    }
}
