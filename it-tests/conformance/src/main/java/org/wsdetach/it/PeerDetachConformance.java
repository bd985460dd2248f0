package org.wsdetach.it;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.junit.jupiter.api.Test;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import java.net.ProtocolException;
import java.net.SocketException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;
import static org.wsdetach.it.Wire.text;

/** Detaches started by the peer's close frame ({@link Detach#detachOnPeerClose}), against a byte-level peer. */
public abstract class PeerDetachConformance extends ConformanceBase {

    static final String REPLY_1000 = "8802" + "03e8";

    void detachOnPeerCloseFromOnOpen() {
        Probe.onOpen = s -> Detach.detachOnPeerClose(s, Probe.HAND_TO_TEST);
    }

    @Test
    void thePeersCloseIsAnsweredAndTheConnectionHandedOver() throws Exception {
        detachOnPeerCloseFromOnOpen();
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(Wire.text("echo:before"));
            assertThat(peer.readFrameHex()).isEqualTo("810b" + ascii("echo:before"));
            // Raw bytes right behind the close frame, before our reply: a peer that detached at once.
            peer.writeHex(frame(0x8, "03e8" + ascii("done")) + HELLO);
            assertThat(peer.readFrameHex()).isEqualTo(REPLY_1000);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            assertThat(connection.peerCloseReason().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
            assertThat(connection.peerCloseReason().getReasonPhrase()).isEqualTo("done");
            write(connection, "world");
            assertThat(peer.readHex(5)).isEqualTo(ascii("world"));
            connection.close();
            assertThat(peer.readToEnd(0)).isEmpty();
        }
        CloseReason closed = Probe.awaitClose();
        assertThat(closed.getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
        assertThat(closed.getReasonPhrase()).isEqualTo("done");
        assertThat(Probe.closes).isEmpty();
    }

    @Test
    void aPeerThatHalfClosesRightAfterItsCloseFrameStillGetsTheReply() throws Exception {
        detachOnPeerCloseFromOnOpen();
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(CLOSE_1000);
            peer.shutdownOutput();
            assertThat(peer.readFrameHex()).isEqualTo(REPLY_1000);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readToEnd(connection, 0)).isZero();
            write(connection, "bye");
            connection.close();
            assertThat(peer.readToEnd(3)).isEqualTo("bye".getBytes());
        }
    }

    @Test
    void halfACloseFrameHoldsTheConnectionNoLongerThanTheTimeout() throws Exception {
        Probe.onOpen = s -> Detach.detachOnPeerClose(s, Duration.ofMillis(Probe.BRIEF_TIMEOUT_MILLIS), Probe.HAND_TO_TEST);
        assertHalfACloseFrameIsCutOff("/probe");
    }

    @Test
    void halfACloseFrameHoldsTheConnectionNoLongerThanTheDeclaredTimeout() throws Exception {
        assertHalfACloseFrameIsCutOff("/declared-brief");
    }

    /** The first byte of a close frame, then silence: the connection must be closed, not pinned. */
    private void assertHalfACloseFrameIsCutOff(String path) throws Exception {
        try (SocketPeer peer = peer(path)) {
            peer.writeHex("88");
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.CLOSED_ABNORMALLY);
        assertThat(Probe.closes).isEmpty();
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void anEndpointDeclaresItsHandlerWithTheAnnotation() throws Exception {
        try (SocketPeer peer = peer("/declared")) {
            peer.writeHex(frame(0x8, "0bb8") + HELLO);
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "0bb8");
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            assertThat(connection.peerCloseReason().getCloseCode().getCode()).isEqualTo(3000);
            connection.close();
        }
        assertThat(Probe.awaitClose().getCloseCode().getCode()).isEqualTo(3000);
    }

    @Test
    void aStatuslessCloseIsAnsweredWithoutStatus() throws Exception {
        detachOnPeerCloseFromOnOpen();
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(frame(0x8, "") + HELLO);
            assertThat(peer.readFrameHex()).isEqualTo("8800");
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(connection.peerCloseReason().getCloseCode()).isEqualTo(CloseCodes.NO_STATUS_CODE);
            assertThat(readText(connection, 5)).isEqualTo("hello");
            connection.close();
        }
    }

    @Test
    void theCloseFrameAndRawBytesMaySplitAtAnyByte() throws Exception {
        for (int split = 1; ; split++) {
            Probe.reset();
            detachOnPeerCloseFromOnOpen();
            try (SocketPeer peer = peer("/probe")) {
                byte[] stream = peer.bytes(text("echo:x") + CLOSE_1000 + HELLO);
                if (split == stream.length) {
                    // This last session ends unused: its @OnClose must not reach the next test.
                    peer.close();
                    Probe.awaitClose();
                    return;
                }
                peer.write(Arrays.copyOfRange(stream, 0, split));
                peer.write(Arrays.copyOfRange(stream, split, stream.length));
                assertThat(peer.readFrameHex()).as("split at %d", split).isEqualTo("8106" + ascii("echo:x"));
                assertThat(peer.readFrameHex()).as("split at %d", split).isEqualTo(REPLY_1000);
                DetachedConnection connection = Probe.awaitHanded();
                assertThat(readText(connection, 5)).as("split at %d", split).isEqualTo("hello");
                connection.close();
            }
        }
    }

    @Test
    void everyFrameMayArriveOneByteAtATime() throws Exception {
        detachOnPeerCloseFromOnOpen();
        try (SocketPeer peer = peer("/probe")) {
            peer.writeBytewise(peer.bytes(text("echo:slow") + CLOSE_1000 + HELLO));
            assertThat(peer.readFrameHex()).isEqualTo("8109" + ascii("echo:slow"));
            assertThat(peer.readFrameHex()).isEqualTo(REPLY_1000);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            connection.close();
        }
    }

    @Test
    void aMalformedCloseFrameFailsTheConnectionInsteadOfDetaching() throws Exception {
        detachOnPeerCloseFromOnOpen();
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex("[8801 03]" + HELLO);
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03ea");
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.PROTOCOL_ERROR);
        assertThat(Probe.handed).isNotDone();
    }

    // ---- a failed detach, as the application sees it: DetachHandler.onDetachFailed ----

    @Test
    void halfACloseFrameAndThenSilenceIsReportedOnceAsATimeout() throws Exception {
        Probe.onOpen = s -> Detach.detachOnPeerClose(s, Duration.ofMillis(Probe.BRIEF_TIMEOUT_MILLIS), Probe.HAND_TO_TEST);
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex("88");
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        Probe.DetachFailure failure = Probe.awaitDetachFailure();
        assertThat(failure.cause()).isInstanceOf(TimeoutException.class)
                .hasMessage("the peer's close frame did not complete within PT0.3S");
        assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.CLOSED_ABNORMALLY);
        assertThat(failure.sessionId()).isEqualTo(Probe.closedSessionIds.poll());
        assertNothingMoreOnceTheServerHasStopped();
        assertThat(Probe.handed).isNotDone();
    }

    @Test
    void aDeclaredHandlerIsToldOfItsSessionsFailure() throws Exception {
        try (SocketPeer peer = peer("/declared-brief")) {
            peer.writeHex("88");
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertThat(Probe.awaitDetachFailure().cause()).isInstanceOf(TimeoutException.class)
                .hasMessage("the peer's close frame did not complete within PT0.3S");
        assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.CLOSED_ABNORMALLY);
        assertNothingMoreOnceTheServerHasStopped();
    }

    @Test
    void aMalformedCloseFrameIsReportedOnceAsAProtocolError() throws Exception {
        detachOnPeerCloseFromOnOpen();
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex("[8801 03]" + HELLO);
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03ea");
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        Probe.DetachFailure failure = Probe.awaitDetachFailure();
        assertThat(failure.cause()).isInstanceOf(ProtocolException.class)
                .hasMessage("while waiting for the peer's close frame: close payload of 1 byte");
        assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.PROTOCOL_ERROR);
        assertThat(failure.sessionId()).isEqualTo(Probe.closedSessionIds.poll());
        assertNothingMoreOnceTheServerHasStopped();
    }

    @Test
    void aResetInTheMiddleOfTheCloseFrameIsReportedOnceAsASocketException() throws Exception {
        detachOnPeerCloseFromOnOpen();
        try (SocketPeer peer = peer("/probe")) {
            // One write: once the echo is back, the server has begun reading the close frame too.
            peer.write(withTheStartOfACloseFrame(peer, text("echo:x")));
            assertThat(peer.readFrameHex()).isEqualTo("8106" + ascii("echo:x"));
            peer.reset();
        }
        Probe.DetachFailure failure = Probe.awaitDetachFailure();
        assertThat(failure.cause()).isInstanceOf(SocketException.class)
                .hasMessageMatching("connection closed \\(.+\\) before the peer's close frame");
        assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.CLOSED_ABNORMALLY);
        assertThat(failure.sessionId()).isEqualTo(Probe.closedSessionIds.poll());
        assertNothingMoreOnceTheServerHasStopped();
    }

    @Test
    void aSuccessfulDetachIsNoFailure() throws Exception {
        detachOnPeerCloseFromOnOpen();
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(CLOSE_1000 + HELLO);
            assertThat(peer.readFrameHex()).isEqualTo(REPLY_1000);
            DetachedConnection connection = Probe.awaitHanded();
            assertThat(readText(connection, 5)).isEqualTo("hello");
            connection.close();
        }
        assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
        assertNothingMoreOnceTheServerHasStopped();
    }

    @Test
    void withoutAHandlerThePeersCloseClosesTheConnection() throws Exception {
        try (SocketPeer peer = peer("/probe")) {
            peer.writeHex(CLOSE_1000);
            assertThat(peer.readFrameHex()).isEqualTo(REPLY_1000);
            assertThat(peer.readUntilClosed()).isEmpty();
        }
        assertThat(Probe.awaitClose().getCloseCode()).isEqualTo(CloseCodes.NORMAL_CLOSURE);
        assertThat(Probe.handed).isNotDone();
    }
}
