package org.wsdetach.core;

import javax.net.ssl.SSLEngine;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Objects;

/**
 * A connection's transport as a container gives it up ({@link ContainerConnection#release()}): the
 * non-blocking TCP channel, for {@code wss} the TLS engine with the network bytes the container read but
 * did not decrypt, the container's own connection object for {@link org.wsdetach.DetachedConnection#unwrap},
 * and what the container must do once the detached connection is closed.
 */
public final class Transport {

    final SocketChannel channel;
    final SSLEngine tls;
    final ByteBuffer undecrypted;
    final Object nativeConnection;
    final Runnable onClose;

    private Transport(SocketChannel channel, SSLEngine tls, ByteBuffer undecrypted, Object nativeConnection,
                      Runnable onClose) {
        this.channel = Objects.requireNonNull(channel, "channel");
        this.tls = tls;
        this.undecrypted = undecrypted;
        this.nativeConnection = nativeConnection;
        this.onClose = Objects.requireNonNull(onClose, "onClose");
        if (channel.isBlocking()) {
            throw new IllegalArgumentException("the channel must be in non-blocking mode");
        }
    }

    /**
     * A plain TCP transport.
     *
     * @param channel          connected and non-blocking; it may stay registered with the container's selector
     *                         as long as the container no longer asks it for events
     * @param nativeConnection the container's connection object, or null
     * @param onClose          run once the detached connection has closed the channel (the container's
     *                         bookkeeping for it); never null
     */
    public static Transport plain(SocketChannel channel, Object nativeConnection, Runnable onClose) {
        return new Transport(channel, null, null, nativeConnection, onClose);
    }

    /**
     * A TLS transport: the detached connection drives {@code engine} over {@code channel} itself.
     *
     * @param engine      the connection's engine, its handshake done; nothing else uses it from now on
     * @param undecrypted network bytes read but not yet given to {@code engine}, in read mode (copied)
     */
    public static Transport tls(SocketChannel channel, SSLEngine engine, ByteBuffer undecrypted,
                                Object nativeConnection, Runnable onClose) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(undecrypted, "undecrypted");
        return new Transport(channel, engine, undecrypted, nativeConnection, onClose);
    }
}
