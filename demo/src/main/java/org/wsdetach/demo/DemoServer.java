package org.wsdetach.demo;

import jakarta.websocket.DeploymentException;
import org.apache.catalina.LifecycleException;
import org.glassfish.tyrus.server.Server;
import org.wsdetach.tyrus.DetachingServerContainerFactory;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.URI;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's WebSocket server: {@link EchoEndpoint} at {@code /echo}, with wsdetach's adapter, on Tyrus (Grizzly),
 * on embedded Apache Tomcat ({@link TomcatServer}, NIO connector) or on embedded Eclipse Jetty ({@link JettyServer},
 * ee10). Each container's code is in a nested class of its own, loaded only when that container starts, so that
 * this class runs where only one of them is on the class path.
 */
public final class DemoServer implements AutoCloseable {

    /** The containers the demo runs on. */
    public enum Container {
        /** Eclipse Tyrus on Grizzly, with {@code wsdetach-tyrus}: the default. */
        TYRUS("tyrus"),
        /** Embedded Apache Tomcat, NIO connector, with {@code wsdetach-tomcat}. */
        TOMCAT("tomcat"),
        /** Embedded Eclipse Jetty 12, servlet layer ee10, with {@code wsdetach-jetty}. */
        JETTY("jetty");

        private final String label;

        Container(String label) {
            this.label = label;
        }

        /** @return the name the command line uses: {@code tyrus}, {@code tomcat} or {@code jetty} */
        @Override
        public String toString() {
            return label;
        }

        /**
         * The container named {@code label}, as {@link #toString()} spells it.
         *
         * @throws IllegalArgumentException if no container has that name
         */
        public static Container of(String label) {
            for (Container container : values()) {
                if (container.label.equals(label.toLowerCase(Locale.ROOT))) {
                    return container;
                }
            }
            throw new IllegalArgumentException("unknown container: " + label);
        }
    }

    /** What a started container gives: its port, and a way to stop it. */
    private interface Running {
        int port();

        void stop();
    }

    private final Container container;
    private final String host;
    private final Running running;
    private final boolean secure;

    private DemoServer(Container container, String host, Running running, boolean secure) {
        this.container = container;
        this.host = host;
        this.running = running;
        this.secure = secure;
    }

    /**
     * Starts a server on Tyrus that accepts connections when this method returns.
     *
     * @param host the address to bind, for example {@code 127.0.0.1}
     * @param port the port to bind, or 0 for any free port
     * @return the running server
     * @throws DeploymentException if the server cannot start, for example because the port is taken
     */
    public static DemoServer start(String host, int port) throws DeploymentException {
        return start(host, port, null);
    }

    /**
     * Starts a server on Tyrus that accepts connections when this method returns, over TLS if {@code tls} is
     * given.
     *
     * @param host the address to bind, for example {@code 127.0.0.1}
     * @param port the port to bind, or 0 for any free port
     * @param tls  the server's TLS context ({@code wss}), or null for plain {@code ws}
     * @return the running server
     * @throws DeploymentException if the server cannot start, for example because the port is taken
     */
    public static DemoServer start(String host, int port, SSLContext tls) throws DeploymentException {
        return start(Container.TYRUS, host, port, tls);
    }

    /**
     * Starts a server on {@code container} that accepts connections when this method returns, over TLS if
     * {@code tls} is given.
     *
     * @param container the container to serve the endpoint on
     * @param host      the address to bind, for example {@code 127.0.0.1}
     * @param port      the port to bind, or 0 for any free port
     * @param tls       the server's TLS context ({@code wss}), or null for plain {@code ws}
     * @return the running server
     * @throws DeploymentException if the server cannot start, for example because the port is taken
     */
    public static DemoServer start(Container container, String host, int port, SSLContext tls)
            throws DeploymentException {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        Running running = switch (container) {
            case TYRUS -> OnTyrus.start(host, port, tls);
            case TOMCAT -> OnTomcat.start(host, port, tls);
            case JETTY -> OnJetty.start(host, port, tls);
        };
        return new DemoServer(container, host, running, tls != null);
    }

    /** @return the container serving the endpoint */
    public Container container() {
        return container;
    }

    /** @return the bound port */
    public int port() {
        return running.port();
    }

    /** @return the endpoint's address, {@code ws://host:port/echo} or {@code wss://host:port/echo} */
    public URI uri() {
        String uriHost = host.contains(":") ? "[" + host + "]" : host;
        return URI.create((secure ? "wss://" : "ws://") + uriHost + ":" + port() + "/echo");
    }

    /** Stops the server. */
    @Override
    public void close() {
        running.stop();
    }

    /** Tyrus' Grizzly server, found by Tyrus with wsdetach's container factory through {@code ServiceLoader}. */
    private static final class OnTyrus {

        /** Tyrus reads port 0 as its default port, 8025, and -1 as "any free port". */
        private static final int TYRUS_EPHEMERAL_PORT = -1;

        static Running start(String host, int port, SSLContext tls) throws DeploymentException {
            Map<String, Object> properties = new HashMap<>();
            // Tyrus' own Grizzly container always binds all interfaces; the adapter binds what it is told.
            properties.put(DetachingServerContainerFactory.HOST, host);
            if (tls != null) {
                properties.put(DetachingServerContainerFactory.SSL_CONTEXT, tls);
            }
            Server server = new Server(host, port == 0 ? TYRUS_EPHEMERAL_PORT : port, "/", properties,
                    EchoEndpoint.class);
            server.start();
            return new Running() {
                @Override
                public int port() {
                    return server.getPort();
                }

                @Override
                public void stop() {
                    server.stop();
                }
            };
        }
    }

    /** Embedded Tomcat, the endpoint at context "/", with wsdetach's initializer. */
    private static final class OnTomcat {

        static Running start(String host, int port, SSLContext tls) throws DeploymentException {
            TomcatServer server;
            try {
                server = TomcatServer.start(host, port, tls, true, EchoEndpoint.class);
            } catch (LifecycleException | IOException e) {
                // The bind error, if that is what it is, is the cause's cause: name it in the message.
                Throwable root = e;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                throw new DeploymentException("Tomcat did not start: " + e.getMessage()
                        + (root == e ? "" : " (" + root + ")"), e);
            }
            return new Running() {
                @Override
                public int port() {
                    return server.port();
                }

                @Override
                public void stop() {
                    server.close();
                }
            };
        }
    }

    /** Embedded Jetty (ee10), the endpoint at context "/", with wsdetach's initializer. */
    private static final class OnJetty {

        static Running start(String host, int port, SSLContext tls) throws DeploymentException {
            JettyServer server;
            try {
                server = JettyServer.start(host, port, tls, true, EchoEndpoint.class);
            } catch (Exception e) {
                // A taken port is Jetty's IOException "Failed to bind to ...", its cause the BindException.
                Throwable root = e;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                throw new DeploymentException("Jetty did not start: " + e
                        + (root == e ? "" : " (" + root + ")"), e);
            }
            return new Running() {
                @Override
                public int port() {
                    return server.port();
                }

                @Override
                public void stop() {
                    server.close();
                }
            };
        }
    }
}
