package org.wsdetach.it;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wsdetach.quickstart.BlockingEcho;
import org.wsdetach.quickstart.EchoEndpoint;
import org.wsdetach.quickstart.NonBlockingEcho;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.it.Wire.ascii;
import static org.wsdetach.it.Wire.frame;
import static org.wsdetach.it.Wire.text;

/**
 * The README's quick start on one container: the server started as the README starts it, serving
 * {@link EchoEndpoint}, and a byte-level client that detaches both ways, to {@link NonBlockingEcho} and to
 * {@link BlockingEcho}, and half-closes; and the detach's flight recorder event, as {@code jfr print} shows it.
 */
public abstract class QuickStartConformance {

    private static final String CLIENT_CLOSE_1000 = frame(0x8, "03e8");
    private static final String EVENT = "org.wsdetach.Detach";

    @TempDir
    Path directory;

    private int port;

    /** Starts the container as the README's quick start does, serving {@link EchoEndpoint} on 127.0.0.1. */
    protected abstract int startQuickStartServer() throws Exception;

    /** Stops what {@link #startQuickStartServer()} started. */
    protected abstract void stopQuickStartServer() throws Exception;

    /** The container's name in the flight recorder event. */
    protected abstract String containerName();

    @BeforeEach
    void start() throws Exception {
        port = startQuickStartServer();
    }

    @AfterEach
    void stop() throws Exception {
        stopQuickStartServer();
    }

    @Test
    void theTextDetachHandsTheConnectionToTheNonBlockingEchoWhichHalfClosesAfterTheClient() throws Exception {
        localDetachAndEcho();
    }

    @Test
    void theClientsCloseFrameHandsTheConnectionToTheBlockingEchoWhichHalfClosesAfterTheClient() throws Exception {
        try (SocketPeer peer = RawPeer.connect(echo())) {
            peer.writeHex(text("hi"));
            assertThat(peer.readFrameHex()).isEqualTo("8102" + ascii("hi"));
            peer.writeHex(CLIENT_CLOSE_1000 + ascii("hello"));
            // The reply carries the client's status.
            assertThat(peer.readFrameHex()).isEqualTo("8802" + "03e8");
            assertThat(peer.readHex(5)).isEqualTo(ascii("hello"));
            peer.writeHex(ascii(", world"));
            assertThat(peer.readHex(7)).isEqualTo(ascii(", world"));
            peer.shutdownOutput();
            assertThat(peer.readToEnd(0)).isEmpty();
        }
    }

    @Test
    void theDetachIsAFlightRecorderEventNamingTheContainer() throws Exception {
        Path file = directory.resolve("quickstart.jfr");
        try (Recording recording = new Recording()) {
            recording.enable(EVENT).withThreshold(Duration.ZERO);
            recording.start();
            localDetachAndEcho();
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(event -> event.getEventType().getName().equals(EVENT)).toList();
        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.getString("container")).isEqualTo(containerName());
            assertThat(event.getString("side")).isEqualTo("server");
            assertThat(event.getString("direction")).isEqualTo("local");
            assertThat(event.getString("scheme")).isEqualTo("ws");
            assertThat(event.getString("outcome")).isEqualTo("detached");
            // What came with the close frame before the hand-over: all of "hello" or a first part of it.
            assertThat(event.getLong("bytesHandedOver")).isBetween(0L, 5L);
            assertThat(event.getDuration()).isPositive();
        });
    }

    private void localDetachAndEcho() throws Exception {
        try (SocketPeer peer = RawPeer.connect(echo())) {
            peer.writeHex(text("detach"));
            assertThat(peer.readFrameHex()).isEqualTo("8808" + "03e8" + ascii("detach"));
            peer.writeHex(CLIENT_CLOSE_1000 + ascii("hello"));
            assertThat(peer.readHex(5)).isEqualTo(ascii("hello"));
            peer.writeHex(ascii(", world"));
            assertThat(peer.readHex(7)).isEqualTo(ascii(", world"));
            peer.shutdownOutput();
            assertThat(peer.readToEnd(0)).isEmpty();
        }
    }

    private URI echo() {
        return URI.create("ws://127.0.0.1:" + port + "/echo");
    }
}
