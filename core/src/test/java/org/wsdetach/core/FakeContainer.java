package org.wsdetach.core;

import jakarta.websocket.CloseReason;

import javax.net.ssl.SSLEngine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A container for the core's tests: it records what it is asked, writes at once, stops reading when told to,
 * and hands over a loopback connection of {@code listener}'s.
 */
final class FakeContainer implements ContainerConnection {

    static final String SESSION_ID = "session-1";

    final List<String> delivered = new ArrayList<>();
    final List<String> written = new ArrayList<>();
    final List<CloseReason> closedSessions = new ArrayList<>();
    final List<SocketChannel> channels = new ArrayList<>();
    final CompletableFuture<Boolean> transportClosedFuture = new CompletableFuture<>();
    volatile boolean transportClosed;
    volatile int transportCloses;
    /** What every write fails with, if not null. */
    Throwable writeFailure;
    /** False for a peer that never reads: our close frame stays queued. */
    boolean writesComplete = true;
    boolean stopAsked;
    Consumer<String> onDeliver = bytes -> { };
    /** What {@link #release()} fails with, or null. */
    RuntimeException releaseFailure;
    /** Run as {@link #release()} begins, on the thread that hands the connection over. */
    Runnable onRelease = () -> { };
    /** If not null, {@link #release()} hands over a TLS transport with this engine. */
    SSLEngine tlsEngine;
    DetachableConnection connection;

    private final ServerSocketChannel listener;

    FakeContainer(ServerSocketChannel listener) {
        this.listener = listener;
    }

    /** A container that never hands a connection over. */
    FakeContainer() {
        this(null);
    }

    @Override
    public void deliver(ByteBuffer bytes) {
        String hex = hex(bytes);
        delivered.add(hex);
        onDeliver.accept(hex);
        bytes.position(bytes.limit());
    }

    @Override
    public void write(ByteBuffer frame, Consumer<Throwable> done) {
        String hex = hex(frame);
        written.add(hex.length() <= 4 ? hex : hex.substring(0, 4) + " " + hex.substring(4, Math.min(8, hex.length()))
                + (hex.length() > 8 ? " " + hex.substring(8) : ""));
        if (writeFailure != null) {
            done.accept(writeFailure);
        } else if (writesComplete) {
            done.accept(null);
        }
    }

    @Override
    public void stopReading() {
        stopAsked = true;
    }

    /** What an adapter does when its read event is over. */
    void completeStops() {
        assertThat(stopAsked).as("the core asked to stop reading").isTrue();
        connection.readsStopped();
    }

    @Override
    public void closeSession(CloseReason reason) {
        closedSessions.add(reason);
        connection.sessionClosed();
    }

    @Override
    public void closeTransport() {
        transportCloses++;
        transportClosed = true;
        transportClosedFuture.complete(true);
    }

    @Override
    public Transport release() {
        onRelease.run();
        if (releaseFailure != null) {
            throw releaseFailure;
        }
        try {
            SocketChannel client = SocketChannel.open(listener.getLocalAddress());
            SocketChannel server = listener.accept();
            server.configureBlocking(false);
            channels.add(client);
            channels.add(server);
            return tlsEngine == null ? Transport.plain(server, null, () -> { })
                    : Transport.tls(server, tlsEngine, ByteBuffer.allocate(0), null, () -> { });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String sessionId() {
        return SESSION_ID;
    }

    void closeChannels() throws IOException {
        for (SocketChannel channel : channels) {
            channel.close();
        }
    }

    private static String hex(ByteBuffer bytes) {
        byte[] copy = new byte[bytes.remaining()];
        bytes.duplicate().get(copy);
        return HexFormat.of().formatHex(copy);
    }
}
