package org.wsdetach.tyrus;

import org.glassfish.tyrus.spi.ServerContainer;
import org.glassfish.tyrus.spi.ServerContainerFactory;

import java.util.HashMap;
import java.util.Map;

/**
 * The Tyrus server container with detach support: Grizzly's HTTP server, as in Tyrus'
 * {@code GrizzlyServerContainer}, plus the hooks that {@link org.wsdetach.Detach} needs.
 *
 * <p>Tyrus finds it with {@link java.util.ServiceLoader} (see {@link ServerContainerFactory}), so having
 * {@code wsdetach-tyrus} on the classpath is all it takes for {@code org.glassfish.tyrus.server.Server}
 * to use it. It understands Tyrus' engine properties (incoming buffer size, session limits, tracing,
 * application event listener) and Grizzly's thread pool properties of {@code GrizzlyServerContainer};
 * static content and WADL are not served. Sessions that never detach behave exactly as on the stock
 * container, except that over {@code wss} what Grizzly decrypts in the same read as a peer's
 * {@code close_notify} is passed on instead of dropped.
 */
public class DetachingServerContainerFactory extends ServerContainerFactory {

    /**
     * Property naming the host or address to bind ({@link String}); Tyrus' {@code Server} does not pass
     * its host name to containers. Default {@value #DEFAULT_HOST}, as the stock container.
     */
    public static final String HOST = "org.wsdetach.tyrus.host";

    /** The address bound when {@link #HOST} is not set: all interfaces, as Tyrus' own container does. */
    public static final String DEFAULT_HOST = "0.0.0.0";

    /**
     * Property holding a {@link javax.net.ssl.SSLContext} with the server's key: the server then speaks
     * TLS ({@code wss}), and detached connections stay inside their TLS sessions. Unset: plain {@code ws}.
     */
    public static final String SSL_CONTEXT = "org.wsdetach.tyrus.sslContext";

    @Override
    public ServerContainer createContainer(Map<String, Object> properties) {
        return new DetachingServerContainer(properties == null ? Map.of() : new HashMap<>(properties));
    }
}
