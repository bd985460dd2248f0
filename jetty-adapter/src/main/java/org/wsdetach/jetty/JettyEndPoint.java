package org.wsdetach.jetty;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.Callback;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ReadPendingException;
import java.nio.channels.WritePendingException;

/**
 * The end point Jetty's {@code WebSocketConnection} is given in place of the connection's own: Jetty's reads,
 * writes, half-close and close of the WebSocket connection pass through its {@link JettyConnection}, and
 * everything else goes to the real end point. Jetty's other users of the connection (the HTTP layer that
 * upgraded it, the selector, the connector) keep using the real one.
 */
final class JettyEndPoint implements EndPoint {

    private final EndPoint real;
    private final JettyConnection connection;

    JettyEndPoint(EndPoint real, JettyConnection connection) {
        this.real = real;
        this.connection = connection;
    }

    EndPoint real() {
        return real;
    }

    JettyConnection detachable() {
        return connection;
    }

    // ---- what the detach sees ----

    @Override
    public int fill(ByteBuffer buffer) throws IOException {
        return connection.fill(buffer);
    }

    @Override
    public void fillInterested(Callback callback) throws ReadPendingException {
        connection.fillInterested(callback);
    }

    @Override
    public boolean tryFillInterested(Callback callback) {
        return connection.tryFillInterested(callback);
    }

    @Override
    public boolean isFillInterested() {
        return connection.isFillInterested();
    }

    @Override
    public void write(Callback callback, ByteBuffer... buffers) throws WritePendingException {
        connection.write(callback, buffers);
    }

    @Override
    public boolean flush(ByteBuffer... buffers) throws IOException {
        // WebSocketConnection writes through write(); a flush is passed on only while Jetty owns the connection.
        if (!connection.jettyOwns()) {
            throw new IOException("the connection has been detached");
        }
        return real.flush(buffers);
    }

    @Override
    public void shutdownOutput() {
        connection.shutdownOutput();
    }

    @Override
    public void close(Throwable cause) {
        connection.close(cause);
    }

    @Override
    public void setIdleTimeout(long idleTimeout) {
        connection.setIdleTimeout(idleTimeout);
    }

    // ---- the real end point's ----

    @Override
    public SocketAddress getLocalSocketAddress() {
        return real.getLocalSocketAddress();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return real.getRemoteSocketAddress();
    }

    @Override
    public boolean isOpen() {
        return real.isOpen();
    }

    @Override
    public long getCreatedTimeStamp() {
        return real.getCreatedTimeStamp();
    }

    @Override
    public boolean isOutputShutdown() {
        return real.isOutputShutdown();
    }

    @Override
    public boolean isInputShutdown() {
        return real.isInputShutdown();
    }

    @Override
    public Object getTransport() {
        return real.getTransport();
    }

    @Override
    public long getIdleTimeout() {
        return real.getIdleTimeout();
    }

    @Override
    public Callback cancelWrite(Throwable cause) {
        return real.cancelWrite(cause);
    }

    @Override
    public Connection getConnection() {
        return real.getConnection();
    }

    @Override
    public void setConnection(Connection newConnection) {
        real.setConnection(newConnection);
    }

    @Override
    public void onOpen() {
        real.onOpen();
    }

    @Override
    public void onClose(Throwable cause) {
        real.onClose(cause);
    }

    @Override
    public void upgrade(Connection newConnection) {
        real.upgrade(newConnection);
    }

    @Override
    public SslSessionData getSslSessionData() {
        return real.getSslSessionData();
    }

    @Override
    public boolean isSecure() {
        return real.isSecure();
    }

    @Override
    public String toString() {
        return "wsdetach end point over " + real;
    }
}
