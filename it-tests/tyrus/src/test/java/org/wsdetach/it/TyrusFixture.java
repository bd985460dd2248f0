package org.wsdetach.it;

import org.glassfish.tyrus.container.grizzly.server.GrizzlyServerContainer;
import org.glassfish.tyrus.server.Server;
import org.glassfish.tyrus.server.TyrusServerContainer;
import org.glassfish.tyrus.spi.ServerContainer;
import org.wsdetach.tyrus.DetachingServerContainerFactory;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.util.Map;

/** Eclipse Tyrus on Grizzly: with wsdetach found through ServiceLoader, and Tyrus' own container. */
final class TyrusFixture implements ServerFixture {

    @Override
    public RunningServer start(Class<?>... endpoints) throws Exception {
        return start(Map.of(DetachingServerContainerFactory.HOST, "127.0.0.1"), "ws", endpoints);
    }

    @Override
    public RunningServer startSecure(SSLContext tls, Class<?>... endpoints) throws Exception {
        return start(Map.of(DetachingServerContainerFactory.HOST, "127.0.0.1",
                DetachingServerContainerFactory.SSL_CONTEXT, tls), "wss", endpoints);
    }

    @Override
    public RunningServer startOn(int port, Class<?>... endpoints) throws Exception {
        return start(Map.of(DetachingServerContainerFactory.HOST, "127.0.0.1"), "ws", port, endpoints);
    }

    private static RunningServer start(Map<String, Object> properties, String scheme, Class<?>... endpoints)
            throws Exception {
        // Port -1 is how Tyrus' Server asks for an ephemeral port.
        return start(properties, scheme, -1, endpoints);
    }

    private static RunningServer start(Map<String, Object> properties, String scheme, int port,
                                       Class<?>... endpoints) throws Exception {
        Server server = new Server("127.0.0.1", port, "/", properties, endpoints);
        server.start();
        return new Running(scheme, server.getPort(), server::stop);
    }

    @Override
    public RunningServer startStock(Class<?>... endpoints) throws Exception {
        ServerContainer container = new GrizzlyServerContainer().createContainer(Map.of());
        for (Class<?> endpoint : endpoints) {
            container.addEndpoint(endpoint);
        }
        container.start("/", 0);
        return new Running("ws", ((TyrusServerContainer) container).getPort(), container::stop);
    }

    private static final class Running implements RunningServer {
        private final String scheme;
        private final int port;
        private final Runnable stop;

        Running(String scheme, int port, Runnable stop) {
            this.scheme = scheme;
            this.port = port;
            this.stop = stop;
        }

        @Override
        public URI uri(String path) {
            return URI.create(scheme + "://127.0.0.1:" + port + path);
        }

        @Override
        public void close() {
            stop.run();
        }
    }
}
