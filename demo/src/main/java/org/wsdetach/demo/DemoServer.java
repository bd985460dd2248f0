package org.wsdetach.demo;

import jakarta.websocket.DeploymentException;
import org.glassfish.tyrus.server.Server;

import org.wsdetach.tyrus.DetachingServerContainerFactory;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;

/** The demo's WebSocket server: {@link EchoEndpoint} at {@code /echo} on Tyrus, with wsdetach's adapter. */
public final class DemoServer implements AutoCloseable {

    /** Tyrus reads port 0 as its default port, 8025, and -1 as "any free port". */
    private static final int TYRUS_EPHEMERAL_PORT = -1;

    private final String host;
    private final Server server;
    private final boolean secure;

    private DemoServer(String host, Server server, boolean secure) {
        this.host = host;
        this.server = server;
        this.secure = secure;
    }

    /**
     * Starts a server that accepts connections when this method returns.
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
     * Starts a server that accepts connections when this method returns, over TLS if {@code tls} is given.
     *
     * @param host the address to bind, for example {@code 127.0.0.1}
     * @param port the port to bind, or 0 for any free port
     * @param tls  the server's TLS context ({@code wss}), or null for plain {@code ws}
     * @return the running server
     * @throws DeploymentException if the server cannot start, for example because the port is taken
     */
    public static DemoServer start(String host, int port, SSLContext tls) throws DeploymentException {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
        Map<String, Object> properties = new HashMap<>();
        // Tyrus' own Grizzly container always binds all interfaces; the adapter binds what it is told.
        properties.put(DetachingServerContainerFactory.HOST, host);
        if (tls != null) {
            properties.put(DetachingServerContainerFactory.SSL_CONTEXT, tls);
        }
        Server server = new Server(host, port == 0 ? TYRUS_EPHEMERAL_PORT : port, "/", properties,
                EchoEndpoint.class);
        server.start();
        return new DemoServer(host, server, tls != null);
    }

    /** @return the bound port */
    public int port() {
        return server.getPort();
    }

    /** @return the endpoint's address, {@code ws://host:port/echo} or {@code wss://host:port/echo} */
    public URI uri() {
        String uriHost = host.contains(":") ? "[" + host + "]" : host;
        return URI.create((secure ? "wss://" : "ws://") + uriHost + ":" + port() + "/echo");
    }

    /** Stops the server. */
    @Override
    public void close() {
        server.stop();
    }
}
