package org.wsdetach.it;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.net.SocketException;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.text;

/**
 * Detaches over TLS ({@code wss}): the detached connection stays in its TLS session. The peers are JDK
 * {@code SSLSocket}s, which could not read a byte the server sent outside TLS.
 */
public abstract class TlsDetachConformance extends ConformanceBase {

    static final CloseReason BYE = new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye");
    static final String SERVER_CLOSE_BYE = "8805" + "03e8" + ascii("bye");
    /** A record header and 16 zero bytes, no TLS record: written straight onto the TCP connection under TLS. */
    static final byte[] NOT_A_TLS_RECORD = Wire.hex("1703030010" + "00".repeat(16));

    @Override
    ServerFixture.RunningServer start(Class<?>... endpoints) throws Exception {
        return fixture().startSecure(TestKey.server(), endpoints);
    }

    @Override
    SSLSocketFactory tls() throws Exception {
        return TestKey.client().getSocketFactory();
    }

    @Test
    void aServerDetachStaysInsideTheTlsSession() throws Exception {
        Probe.onText = s -> Detach.detach(s, BYE, Probe.HAND_TO_TEST);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            // One write of the SSLSocket, one TLS record: the close frame and raw bytes in the same record.
            peer.writeHex(CLOSE_1000 + HELLO);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            write(connection, "world");
            assertThat(peer.readHex(5)).isEqualTo(ascii("world"));
            SSLSession session = connection.sslSession().orElseThrow();
            assertThat(session.getProtocol()).startsWith("TLS");
            SSLSession peerSession = ((javax.net.ssl.SSLSocket) peer.socket()).getSession();
            assertThat(session.getCipherSuite()).isEqualTo(peerSession.getCipherSuite());
            assertThat(session.getLocalCertificates()).containsExactly(peerSession.getPeerCertificates());
            connection.close();
        }
        assertThat(Probe.awaitClose().getReasonPhrase()).isEqualTo("bye");
    }

    @Test
    void aPeerDetachInOneTlsRecordWithRawBytes() throws Exception {
        try (SocketPeer peer = peer("/declared")) {
            peer.writeHex(CLOSE_1000 + HELLO);
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(connection.sslSession()).isPresent();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            write(connection, "world");
            assertThat(peer.readHex(5)).isEqualTo(ascii("world"));
            connection.close();
        }
    }

    @Test
    void sixteenMebibytesEchoByteForByte() throws Exception {
        int size = 16 << 20;
        byte[] sent = new byte[size];
        new Random(16).nextBytes(sent);
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try (SocketPeer peer = peer("/echo")) {
            peer.writeHex(CLOSE_1000);
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            Future<?> sending = writer.submit(() -> peer.write(sent));
            byte[] echoed = peer.readExactly(size);
            sending.get(30, TimeUnit.SECONDS);
            assertThat(Arrays.mismatch(echoed, sent)).isEqualTo(-1);
        } finally {
            writer.shutdownNow();
        }
    }

    @Test
    void thePeersCloseNotifyEndsTheStreamAndOurShutdownEndsTheirs() throws Exception {
        Probe.onText = s -> Detach.detach(s, BYE, Probe.HAND_TO_TEST);
        SocketPeer peer = peer("/probe");
        peer.writeHex(text("go"));
        peer.readFrameHex();
        peer.writeHex(CLOSE_1000 + HELLO);
        DetachedConnection connection = Probe.awaitHanded();
        write(connection, "last");
        connection.shutdownOutput();
        assertThat(peer.readToEnd(4)).isEqualTo("last".getBytes());
        assertThat(readText(connection, 5)).isEqualTo("hello");
        peer.close();
        assertThat(readToEnd(connection, 0)).isZero();
        connection.close();
    }

    @Test
    void aTlsHalfCloseReadsAsTheEndOfTheStreamWhileTheOtherWayStaysOpen() throws Exception {
        try (SocketPeer peer = peer("/echo")) {
            peer.writeHex(CLOSE_1000 + HELLO);
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            // close_notify only (a TLS 1.3 half-close): the echo handler must see the end and finish its echo.
            peer.shutdownOutput();
            assertThat(Wire.hexOf(peer.readToEnd(5))).isEqualTo(HELLO);
        }
    }

    @Test
    void stoppingTheServerClosesItsDetachedConnectionsAsOverPlainTcp() throws Exception {
        try (SocketPeer peer = peer("/declared")) {
            assertServerStopClosesTheDetachedConnection(peer, detachOnPeersClose(peer));
        }
    }

    @Test
    void aCloseNotifyWithoutFinReadsAsTheEndWhileOurWritesStillArrive() throws Exception {
        try (SocketPeer peer = peer("/declared")) {
            peer.writeHex(CLOSE_1000 + HELLO);
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            DetachedConnection connection = Probe.awaitHanded();
            // SSLSocket.shutdownOutput sends close_notify (TLS 1.3) and keeps TCP open both ways.
            peer.shutdownOutput();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            assertThat(readToEnd(connection, 0)).isZero();
            write(connection, "after");
            connection.shutdownOutput();
            assertThat(peer.readToEnd(5)).isEqualTo("after".getBytes());
            connection.close();
        }
    }

    @Test
    void aCloseNotifyRightBehindTheCloseFrameLosesNeitherTheFrameNorTheBytesBetween() throws Exception {
        for (int round = 0; round < 20; round++) {
            try (SocketPeer peer = peer("/echo")) {
                // No wait for the reply: the close frame, raw bytes and close_notify may share one read.
                peer.writeHex(CLOSE_1000 + HELLO);
                peer.shutdownOutput();
                assertThat(peer.readFrameHex()).as("round %d", round).isEqualTo("8802" + "03e8");
                assertThat(Wire.hexOf(peer.readToEnd(5))).as("round %d", round).isEqualTo(HELLO);
            }
        }
    }

    @Test
    void aKeyUpdateAfterTheHandOverLosesNothingEitherWay() throws Exception {
        try (SocketPeer peer = peer("/declared")) {
            DetachedConnection connection = detachOnPeersClose(peer);
            write(connection, "one");
            assertThat(peer.readHex(3)).isEqualTo(ascii("one"));
            // On TLS 1.3 a new handshake of an established SSLSocket is a KeyUpdate, asking for ours.
            ((SSLSocket) peer.socket()).startHandshake();
            peer.writeHex(ascii("two"));
            assertThat(readText(connection, 3)).isEqualTo("two");
            write(connection, "three");
            assertThat(peer.readHex(5)).isEqualTo(ascii("three"));
            connection.close();
        }
    }

    @Test
    void aDetachedWssConnectionUnwrapsToItsEngineAndChannel() throws Exception {
        try (SocketPeer peer = peer("/declared")) {
            DetachedConnection connection = detachOnPeersClose(peer);
            SSLEngine engine = connection.unwrap(SSLEngine.class).orElseThrow();
            assertThat(engine.getSession()).isSameAs(connection.sslSession().orElseThrow());
            assertThat(engine.getSession().getProtocol()).isEqualTo(((SSLSocket) peer.socket()).getSession().getProtocol());
            SocketChannel channel = connection.unwrap(SocketChannel.class).orElseThrow();
            assertThat(channel.getRemoteAddress()).isEqualTo(peer.socket().getLocalSocketAddress());
            connection.close();
            assertThat(channel.isOpen()).isFalse();
        }
    }

    @Test
    void aCloseNotifyWhileWaitingFailsTheDetach() throws Exception {
        CompletableFuture<CompletableFuture<DetachedConnection>> stage = new CompletableFuture<>();
        Probe.onText = s -> stage.complete(Detach.detach(s, BYE, Detach.NO_DEADLINE, Probe.HAND_TO_TEST));
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.shutdownOutput();
            assertThatThrownBy(() -> stage.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SocketException.class);
        }
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void aTlsFailureInThePeersCloseFrameIsReportedToTheHandlerWithItsCause() throws Exception {
        Probe.onOpen = s -> Detach.detachOnPeerClose(s, Probe.HAND_TO_TEST);
        try (SocketPeer peer = peer("/probe")) {
            // One record: once the echo is back, the server has begun reading the close frame too.
            peer.write(withTheStartOfACloseFrame(peer, text("echo:x")));
            assertThat(peer.readFrameHex()).isEqualTo("8106" + ascii("echo:x"));
            peer.rawSocket().getOutputStream().write(NOT_A_TLS_RECORD);
            // The server ends the connection, with a TLS alert (Tomcat) or without one.
            assertThat(catchThrowable(peer::readUntilClosed)).satisfiesAnyOf(
                    end -> assertThat(end).isNull(), end -> assertThat(end).isInstanceOf(SSLException.class));
        }
        Probe.DetachFailure failure = Probe.awaitDetachFailure();
        assertThat(failure.cause()).isInstanceOf(SocketException.class);
        assertThat(Stream.iterate((Throwable) failure.cause(), Objects::nonNull, Throwable::getCause))
                .anyMatch(cause -> cause instanceof SSLException);
        assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.CLOSED_ABNORMALLY);
        assertThat(failure.sessionId()).isEqualTo(Probe.closedSessionIds.poll());
        assertNothingMoreOnceTheServerHasStopped();
    }

    @Test
    void aHandlerThatDoesNotReadStopsThePeer() throws Exception {
        try (SocketPeer peer = peer("/declared")) {
            peer.writeHex(CLOSE_1000);
            peer.readFrameHex();
            DetachedConnection connection = Probe.awaitHanded();
            assertFloodWaitsForReads(peer, connection);
            connection.close();
        }
    }

    @Test
    void aTlsFailureWhileWaitingFailsTheDetachWithItsCause() throws Exception {
        CompletableFuture<CompletableFuture<DetachedConnection>> stage = new CompletableFuture<>();
        Probe.onText = s -> stage.complete(Detach.detach(s, BYE, Detach.NO_DEADLINE, Probe.HAND_TO_TEST));
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(text("go"));
            assertThat(peer.readFrameHex()).isEqualTo(SERVER_CLOSE_BYE);
            peer.rawSocket().getOutputStream().write(NOT_A_TLS_RECORD);
            Throwable failure = catchThrowable(() -> stage.get(10, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS));
            assertThat(failure).isInstanceOf(ExecutionException.class).hasCauseInstanceOf(SocketException.class);
            assertThat(Stream.iterate(failure, Objects::nonNull, Throwable::getCause))
                    .anyMatch(cause -> cause instanceof SSLException);
        }
        assertThat(Probe.handed).isNotDone();
    }
}
