package org.wsdetach.it;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Starts the container's server for each test and offers the helpers the suites share. */
public abstract class ConformanceBase {

    static final String CLOSE_1000 = Wire.frame(0x8, "03e8");
    static final String HELLO = Wire.ascii("hello");

    ServerFixture.RunningServer server;

    /** The container under test. */
    protected abstract ServerFixture fixture();

    @BeforeEach
    void startServer() throws Exception {
        Probe.reset();
        server = start(Probe.ProbeEndpoint.class, Probe.DeclaredEndpoint.class, Probe.BriefDeclaredEndpoint.class,
                Probe.EchoEndpoint.class);
    }

    /** Starts the server the tests talk to; plain {@code ws} unless a suite says otherwise. */
    ServerFixture.RunningServer start(Class<?>... endpoints) throws Exception {
        return fixture().start(endpoints);
    }

    /** The TLS client socket factory of the peers, or null for plain {@code ws}. */
    SSLSocketFactory tls() throws Exception {
        return null;
    }

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    /** Connects a byte-level peer to the side under test's endpoint at {@code path}. */
    SocketPeer peer(String path) throws Exception {
        return RawPeer.connect(server.uri(path), tls());
    }

    static byte[] read(DetachedConnection connection, int length) throws Exception {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int n = connection.read(buffer).get(10, TimeUnit.SECONDS);
            if (n < 0) {
                throw new IOException("end of stream after " + buffer.position() + " of " + length + " bytes");
            }
        }
        return buffer.array();
    }

    static String readText(DetachedConnection connection, int length) throws Exception {
        return new String(read(connection, length), StandardCharsets.UTF_8);
    }

    /** Reads until the end of the stream; fails on more than {@code limit} bytes. */
    static int readToEnd(DetachedConnection connection, int limit) throws Exception {
        ByteBuffer buffer = ByteBuffer.allocate(limit + 1);
        int total = 0;
        int n;
        while ((n = connection.read(buffer).get(10, TimeUnit.SECONDS)) >= 0) {
            total += n;
            if (!buffer.hasRemaining()) {
                throw new IOException("more than " + limit + " bytes before the end of stream");
            }
        }
        return total;
    }

    static void write(DetachedConnection connection, String text) throws Exception {
        ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (buffer.hasRemaining()) {
            connection.write(buffer).get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Detaches the way the {@code /declared} endpoint does: the peer's close frame 1000, answered, then the
     * hand-over.
     */
    static DetachedConnection detachOnPeersClose(SocketPeer peer) throws Exception {
        peer.writeHex(CLOSE_1000);
        assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
        return Probe.awaitHanded();
    }

    /**
     * Detaches the way {@code /probe} does when told "go": our close frame 1000 without a reason, the peer's
     * close frame 1000, then the hand-over.
     */
    static DetachedConnection detachedOnGo(SocketPeer peer) throws Exception {
        Probe.onText = s -> Detach.detach(s, new CloseReason(CloseCodes.NORMAL_CLOSURE, ""), Probe.HAND_TO_TEST);
        peer.writeHex(Wire.text("go"));
        assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
        peer.writeHex(CLOSE_1000);
        return Probe.awaitHanded();
    }

    /** How many idle detached connections {@link #assertIdleDetachedConnectionsKeepNone} keeps. */
    static final int IDLE_CONNECTIONS = 40;

    /**
     * A connection detached the way {@link #detachedOnGo} does and left idle, for {@link HeapMeter#keeping}: closes
     * the detached connection, then its peer.
     */
    List<AutoCloseable> idleDetachedConnection() throws Exception {
        Probe.reset();
        SocketPeer peer = peer("/probe");
        return List.of(detachedOnGo(peer), peer);
    }

    /**
     * Fails if, with {@value #IDLE_CONNECTIONS} more idle detached connections, one of {@code classNames} has half as
     * many more live instances or more: something a connection keeps reachable.
     */
    void assertIdleDetachedConnectionsKeepNone(String... classNames) throws Exception {
        HeapMeter.Growth growth = HeapMeter.keeping(IDLE_CONNECTIONS, this::idleDetachedConnection);
        for (String className : classNames) {
            assertThat(growth.instancesOf(className))
                    .as("%s live with %d more idle detached connections", className, IDLE_CONNECTIONS)
                    .isLessThan(IDLE_CONNECTIONS / 2);
        }
    }

    /**
     * Stops the server while {@code connection}, detached from it, has a read pending: the read fails with
     * {@link java.nio.channels.AsynchronousCloseException}, as for any channel closed under a pending read,
     * and the peer sees the connection end.
     */
    void assertServerStopClosesTheDetachedConnection(SocketPeer peer, DetachedConnection connection) throws Exception {
        Future<Integer> pending = connection.read(ByteBuffer.allocate(1));
        server.close();
        server = null;
        assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .hasCauseInstanceOf(java.nio.channels.AsynchronousCloseException.class);
        assertThat(connection.isOpen()).isFalse();
        assertThat(peer.readUntilClosed()).isEmpty();
    }

    /** {@code endpoints} and one more. */
    static Class<?>[] with(Class<?>[] endpoints, Class<?> another) {
        Class<?>[] all = java.util.Arrays.copyOf(endpoints, endpoints.length + 1);
        all[endpoints.length] = another;
        return all;
    }

    /**
     * The bytes of {@code wire} followed by the header of a close frame, without its payload, as {@code peer}'s
     * role sends them: two bytes, so that every container has begun reading the close frame once it has
     * answered {@code wire} (Tomcat shows a frame to the adapter from its second byte on).
     */
    static byte[] withTheStartOfACloseFrame(SocketPeer peer, String wire) {
        byte[] before = peer.bytes(wire);
        byte[] bytes = java.util.Arrays.copyOf(before, before.length + 2);
        System.arraycopy(peer.bytes(CLOSE_1000), 0, bytes, before.length, 2);
        return bytes;
    }

    /**
     * Stops the server, after which nothing more can reach the test, and checks that no further {@code @OnClose}
     * or {@link org.wsdetach.DetachHandler#onDetachFailed} did: what the test awaited happened exactly once.
     */
    void assertNothingMoreOnceTheServerHasStopped() {
        server.close();
        server = null;
        assertThat(Probe.closes).as("@OnClose calls after the one awaited").isEmpty();
        assertThat(Probe.detachFailures).as("onDetachFailed calls after the one awaited").isEmpty();
    }

    /**
     * Floods {@code connection} with 64 MiB from {@code peer} while nobody reads it: the peer must be held
     * back by TCP long before all of it is out, and everything must arrive once the connection is read.
     */
    static void assertFloodWaitsForReads(SocketPeer peer, DetachedConnection connection) throws Exception {
        int total = 64 << 20;
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            Future<?> flood = writer.submit(() -> {
                byte[] chunk = new byte[1 << 16];
                for (int sent = 0; sent < total; sent += chunk.length) {
                    peer.write(chunk);
                }
                return null;
            });
            assertThatThrownBy(() -> flood.get(1, TimeUnit.SECONDS)).isInstanceOf(TimeoutException.class);
            ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
            long received = 0;
            while (received < total) {
                buffer.clear();
                int n = connection.read(buffer).get(10, TimeUnit.SECONDS);
                assertThat(n).isPositive();
                received += n;
            }
            flood.get(10, TimeUnit.SECONDS);
            assertThat(received).isEqualTo(total);
        } finally {
            writer.shutdownNow();
        }
    }
}
