package org.wsdetach.jetty;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.Configuration;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeRequest;
import org.eclipse.jetty.websocket.core.server.ServerUpgradeResponse;
import org.eclipse.jetty.websocket.core.server.WebSocketNegotiator;
import org.wsdetach.DetachOnPeerClose;
import org.wsdetach.core.DetachThreads;

import java.util.EventListener;
import java.util.concurrent.TimeoutException;

/**
 * One WebSocket handshake that Jetty performs on the adapter's behalf: its negotiator is Jetty's own, wrapped
 * to learn the endpoint class and the session Jetty creates; its request is Jetty's, wrapped so that the
 * connection Jetty creates for the session is given a {@link JettyEndPoint} instead of the real end point.
 */
final class Handshake {

    private final DetachThreads threads;
    private final EeGlue glue;
    private final DeclaredHandlerCheck declaredHandlers;
    private DetachOnPeerClose declared;
    /** The Jakarta layer's frame handler, whose session exists once Jetty has opened it. */
    private volatile FrameHandler jakarta;
    private CoreSession session;
    private JettyEndPoint endPoint;

    Handshake(DetachThreads threads, EeGlue glue, DeclaredHandlerCheck declaredHandlers) {
        this.threads = threads;
        this.glue = glue;
        this.declaredHandlers = declaredHandlers;
    }

    WebSocketNegotiator negotiator(WebSocketNegotiator jetty) {
        return new WebSocketNegotiator() {
            @Override
            public FrameHandler negotiate(ServerUpgradeRequest request, ServerUpgradeResponse response,
                                          Callback callback) {
                FrameHandler handler = jetty.negotiate(request, response, callback);
                jakarta = handler;
                Class<?> type = handler == null ? null : glue.endpointClass(handler);
                if (type != null && declaredHandlers.refusal(type).isPresent()) {
                    // A negotiator that answers null has written the response: no upgrade.
                    Response.writeError(request, response, callback, HttpStatus.INTERNAL_SERVER_ERROR_500);
                    return null;
                }
                declared = type == null ? null : type.getAnnotation(DetachOnPeerClose.class);
                return handler;
            }

            @Override
            public void customize(Configuration configurable) {
                jetty.customize(configurable);
                if (configurable instanceof CoreSession) {
                    session = (CoreSession) configurable;
                }
            }
        };
    }

    Request request(Request jetty) {
        return new Request.Wrapper(jetty) {
            @Override
            public ConnectionMetaData getConnectionMetaData() {
                ConnectionMetaData metaData = super.getConnectionMetaData();
                return new ConnectionMetaData.Wrapper(metaData) {
                    @Override
                    public Connection getConnection() {
                        return new DetachableHttpConnection(metaData.getConnection(), metaData);
                    }
                };
            }
        };
    }

    /** Jetty's HTTP connection, but for the end point it gives the WebSocket connection Jetty creates. */
    private final class DetachableHttpConnection implements Connection {
        private final Connection http;
        private final ConnectionMetaData metaData;

        DetachableHttpConnection(Connection http, ConnectionMetaData metaData) {
            this.http = http;
            this.metaData = metaData;
        }

        @Override
        public EndPoint getEndPoint() {
            synchronized (Handshake.this) {
                if (endPoint == null) {
                    Connector connector = metaData.getConnector();
                    endPoint = new JettyConnection(http.getEndPoint(), connector.getByteBufferPool(), session,
                            connector.getExecutor(), threads, declared, () -> glue.sessionId(jakarta)).endPoint();
                }
                return endPoint;
            }
        }

        @Override
        public void addEventListener(EventListener listener) {
            http.addEventListener(listener);
        }

        @Override
        public void removeEventListener(EventListener listener) {
            http.removeEventListener(listener);
        }

        @Override
        public void onOpen() {
            http.onOpen();
        }

        @Override
        public void onClose(Throwable cause) {
            http.onClose(cause);
        }

        @Override
        public void close() {
            http.close();
        }

        @Override
        public boolean onIdleExpired(TimeoutException timeout) {
            return http.onIdleExpired(timeout);
        }

        @Override
        public long getMessagesIn() {
            return http.getMessagesIn();
        }

        @Override
        public long getMessagesOut() {
            return http.getMessagesOut();
        }

        @Override
        public long getBytesIn() {
            return http.getBytesIn();
        }

        @Override
        public long getBytesOut() {
            return http.getBytesOut();
        }

        @Override
        public long getCreatedTimeStamp() {
            return http.getCreatedTimeStamp();
        }
    }
}
