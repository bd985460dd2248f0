package org.wsdetach.tyrus;

import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerEndpointConfig;
import org.glassfish.grizzly.http.server.HttpServer;
import org.glassfish.grizzly.http.server.NetworkListener;
import org.glassfish.grizzly.http.server.AddOn;
import org.glassfish.grizzly.http.server.HttpServerFilter;
import org.glassfish.grizzly.nio.transport.TCPNIOTransportBuilder;
import org.glassfish.grizzly.ssl.SSLBaseFilter;
import org.glassfish.grizzly.ssl.SSLEngineConfigurator;
import org.glassfish.grizzly.strategies.WorkerThreadIOStrategy;
import org.glassfish.grizzly.threadpool.ThreadPoolConfig;
import org.glassfish.tyrus.container.grizzly.server.GrizzlyServerContainer;
import org.glassfish.tyrus.core.DebugContext;
import org.glassfish.tyrus.core.TyrusWebSocketEngine;
import org.glassfish.tyrus.core.Utils;
import org.glassfish.tyrus.core.cluster.ClusterContext;
import org.glassfish.tyrus.core.monitoring.ApplicationEventListener;
import org.glassfish.tyrus.server.TyrusServerContainer;
import org.glassfish.tyrus.spi.Connection;
import org.glassfish.tyrus.spi.UpgradeRequest;
import org.glassfish.tyrus.spi.UpgradeResponse;
import org.glassfish.tyrus.spi.WebSocketEngine;
import org.glassfish.tyrus.spi.Writer;
import org.wsdetach.core.DeclaredHandlers;
import org.wsdetach.core.DetachThreads;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.util.Map;
import java.util.Set;

/**
 * One server: a Grizzly listener whose WebSocket filter and engine are wrapped so that every upgraded
 * connection becomes a {@link TyrusConnection}, plus the two threads detaches need (deadlines and
 * detached I/O), which live as long as the server.
 */
final class DetachingServerContainer extends TyrusServerContainer {

    private static final String LISTENER_NAME = "wsdetach";

    private final Map<String, Object> properties;
    private final WebSocketEngine engine;
    private final ApplicationEventListener userListener;
    private String contextPath;
    private HttpServer server;
    private DetachThreads threads;
    private volatile int boundPort = -1;

    DetachingServerContainer(Map<String, Object> properties) {
        super((Set<Class<?>>) null);
        this.properties = properties;
        this.userListener = Utils.getProperty(properties, ApplicationEventListener.APPLICATION_EVENT_LISTENER,
                ApplicationEventListener.class);
        TyrusWebSocketEngine tyrusEngine = TyrusWebSocketEngine.builder(this)
                .incomingBufferSize(Utils.getProperty(properties, TyrusWebSocketEngine.INCOMING_BUFFER_SIZE, Integer.class))
                .clusterContext(Utils.getProperty(properties, ClusterContext.CLUSTER_CONTEXT, ClusterContext.class))
                .applicationEventListener(new SessionTracker(userListener))
                .maxSessionsPerApp(Utils.getProperty(properties, TyrusWebSocketEngine.MAX_SESSIONS_PER_APP, Integer.class))
                .maxSessionsPerRemoteAddr(Utils.getProperty(properties,
                        TyrusWebSocketEngine.MAX_SESSIONS_PER_REMOTE_ADDR, Integer.class))
                .parallelBroadcastEnabled(Utils.getProperty(properties,
                        TyrusWebSocketEngine.PARALLEL_BROADCAST_ENABLED, Boolean.class))
                .tracingType(Utils.getProperty(properties, TyrusWebSocketEngine.TRACING_TYPE,
                        DebugContext.TracingType.class, DebugContext.TracingType.OFF))
                .tracingThreshold(Utils.getProperty(properties, TyrusWebSocketEngine.TRACING_THRESHOLD,
                        DebugContext.TracingThreshold.class, DebugContext.TracingThreshold.TRACE))
                .build();
        this.engine = new DetachingEngine(tyrusEngine);
    }

    /** Every endpoint is deployed here, at start and by a later {@code addEndpoint}: a wrong declaration fails it. */
    @Override
    public void register(Class<?> endpointClass) throws DeploymentException {
        DeclaredHandlers.check(endpointClass);
        engine.register(endpointClass, contextPath);
    }

    @Override
    public void register(ServerEndpointConfig serverEndpointConfig) throws DeploymentException {
        DeclaredHandlers.check(serverEndpointConfig.getEndpointClass());
        engine.register(serverEndpointConfig, contextPath);
    }

    @Override
    public WebSocketEngine getWebSocketEngine() {
        return engine;
    }

    @Override
    public void start(String rootPath, int port) throws IOException, DeploymentException {
        contextPath = rootPath;
        String host = Utils.getProperty(properties, DetachingServerContainerFactory.HOST, String.class,
                DetachingServerContainerFactory.DEFAULT_HOST);
        server = new HttpServer();
        NetworkListener listener = new NetworkListener(LISTENER_NAME, host, port);
        server.addListener(listener);
        configureTransport(listener);
        SSLContext tls = Utils.getProperty(properties, DetachingServerContainerFactory.SSL_CONTEXT, SSLContext.class);
        if (tls != null) {
            listener.setSecure(true);
            listener.setSSLEngineConfig(new SSLEngineConfigurator(tls, false, false, false));
        }
        // Tyrus sessions have their own idle timeout; a keep-alive timeout would also close detached connections.
        listener.getKeepAlive().setIdleTimeoutInSeconds(-1);
        listener.registerAddOn((AddOn) (networkListener, builder) -> {
            int sslFilter = builder.indexOfType(SSLBaseFilter.class);
            if (sslFilter >= 0) {
                builder.set(sslFilter, new CloseNotifyKeepingSslFilter(networkListener.getSslEngineConfig()));
            }
            int httpFilter = builder.indexOfType(HttpServerFilter.class);
            if (httpFilter >= 0) {
                builder.add(httpFilter, new DetachingServerFilter(this, rootPath));
            }
        });
        if (userListener != null) {
            userListener.onApplicationInitialized(rootPath);
        }
        threads = DetachThreads.open("wsdetach");
        try {
            server.start();
            boundPort = listener.getPort();
            super.start(rootPath, port);
        } catch (IOException | DeploymentException | RuntimeException e) {
            // Tyrus' Server does not stop a container that failed to start.
            stop();
            throw e;
        }
    }

    private void configureTransport(NetworkListener listener) {
        ThreadPoolConfig workers = Utils.getProperty(properties, GrizzlyServerContainer.WORKER_THREAD_POOL_CONFIG,
                ThreadPoolConfig.class);
        ThreadPoolConfig selectors = Utils.getProperty(properties, GrizzlyServerContainer.SELECTOR_THREAD_POOL_CONFIG,
                ThreadPoolConfig.class);
        if (workers == null && selectors == null) {
            listener.getTransport().setIOStrategy(WorkerThreadIOStrategy.getInstance());
            return;
        }
        TCPNIOTransportBuilder builder = TCPNIOTransportBuilder.newInstance();
        if (workers != null) {
            builder.setWorkerThreadPoolConfig(workers);
        }
        if (selectors != null) {
            builder.setSelectorThreadPoolConfig(selectors);
        }
        builder.setIOStrategy(WorkerThreadIOStrategy.getInstance());
        listener.setTransport(builder.build());
    }

    @Override
    public int getPort() {
        return boundPort > 0 ? boundPort : super.getPort();
    }

    @Override
    public void stop() {
        super.stop();
        // Before Grizzly's shutdown: the detached connections are closed as their owner's, with their
        // pending operations failed, rather than having their sockets pulled from under them.
        if (threads != null) {
            threads.close();
        }
        if (server != null) {
            server.shutdownNow();
        }
        if (userListener != null) {
            userListener.onApplicationDestroyed();
        }
    }

    @Override
    public Map<String, Object> getProperties() {
        return properties;
    }

    /** Turns each upgraded connection into a {@link TyrusConnection}. */
    private final class DetachingEngine implements WebSocketEngine {
        private final WebSocketEngine tyrus;

        DetachingEngine(WebSocketEngine tyrus) {
            this.tyrus = tyrus;
        }

        @Override
        public UpgradeInfo upgrade(UpgradeRequest request, UpgradeResponse response) {
            UpgradeInfo info = tyrus.upgrade(request, response);
            if (info.getStatus() != UpgradeStatus.SUCCESS) {
                return info;
            }
            return new UpgradeInfo() {
                @Override
                public UpgradeStatus getStatus() {
                    return UpgradeStatus.SUCCESS;
                }

                @Override
                public Connection createConnection(Writer writer, Connection.CloseListener closeListener) {
                    return TyrusConnection.open(info, writer, closeListener,
                            DetachingServerFilter.currentTransport(), threads);
                }
            };
        }

        @Override
        public void register(Class<?> endpointClass, String contextPath) throws DeploymentException {
            tyrus.register(endpointClass, contextPath);
        }

        @Override
        public void register(ServerEndpointConfig serverConfig, String contextPath) throws DeploymentException {
            tyrus.register(serverConfig, contextPath);
        }
    }
}
