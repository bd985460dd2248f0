package org.wsdetach.it;

import java.net.URI;

/**
 * What the conformance suite needs from a container: a server with detach support on 127.0.0.1 and an
 * ephemeral port, and, for comparison, the same container without it. One implementation per container.
 */
public interface ServerFixture {

    /** Starts the container with detach support, serving {@code endpoints} at context "/". */
    RunningServer start(Class<?>... endpoints) throws Exception;

    /** Starts the container with detach support over TLS ({@code wss}) with the key of {@code tls}. */
    RunningServer startSecure(javax.net.ssl.SSLContext tls, Class<?>... endpoints) throws Exception;

    /**
     * Starts the container with detach support on {@code port} of 127.0.0.1; used with a port already taken,
     * to see that a failed start leaves nothing behind.
     *
     * @throws Exception if the server cannot start
     */
    RunningServer startOn(int port, Class<?>... endpoints) throws Exception;

    /** Starts the container exactly as it is without wsdetach, serving {@code endpoints} at context "/". */
    RunningServer startStock(Class<?>... endpoints) throws Exception;

    interface RunningServer extends AutoCloseable {
        /** The ws:// (or wss://) URI of {@code path} on this server. */
        URI uri(String path);

        @Override
        void close();
    }
}
