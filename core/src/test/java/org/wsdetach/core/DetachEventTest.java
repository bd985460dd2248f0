package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Each detach is one {@code org.wsdetach.Detach} flight recorder event, read back from the recording's file. */
class DetachEventTest {

    private static final HexFormat HEX = HexFormat.of();
    private static final CloseReason BYE = new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye");
    /** A client's close frame 1000, masked with the key 00000000. */
    private static final String CLOSE_1000 = "88820000000003e8";
    /** A server's close frame 1000, unmasked. */
    private static final String SERVER_CLOSE_1000 = "880203e8";
    /** A text frame "hi" without a mask, which a client must not send. */
    private static final String UNMASKED_TEXT_HI = "81026869";

    @TempDir
    Path directory;

    private FakeServerSide side;
    private FakeContainer container;
    private DetachableConnection connection;

    @BeforeEach
    void setUp() throws IOException {
        side = new FakeServerSide("jfr-test");
        container = side.container;
        connection = side.connection;
    }

    @AfterEach
    void tearDown() throws IOException {
        side.close();
    }

    @Test
    void aLocalDetachIsRecordedWithItsContainerDirectionSchemeAndTheBytesHandedOver() throws Exception {
        List<RecordedEvent> events = recording(() -> {
            detachAndHandOver("68656c6c6f");
        });

        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.getString("container")).isEqualTo("FakeContainer");
            assertThat(event.getString("side")).isEqualTo("server");
            assertThat(event.getString("direction")).isEqualTo("local");
            assertThat(event.getString("scheme")).isEqualTo("ws");
            assertThat(event.getString("outcome")).isEqualTo("detached");
            assertThat(event.getString("failure")).isNull();
            assertThat(event.getLong("bytesHandedOver")).isEqualTo(5);
            assertThat(event.getDuration()).isPositive();
        });
    }

    @Test
    void aDetachThePeerStartsIsRecordedAsThePeers() throws Exception {
        CompletableFuture<DetachedConnection> handed = new CompletableFuture<>();
        List<RecordedEvent> events = recording(() -> {
            connection.detachOnPeerClose(Detach.DEFAULT_TIMEOUT, handed::complete);
            connection.onInbound(bytes(CLOSE_1000));
            container.completeStops();
            handed.get(10, TimeUnit.SECONDS).close();
        });

        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.getString("direction")).isEqualTo("peer");
            assertThat(event.getString("outcome")).isEqualTo("detached");
            assertThat(event.getLong("bytesHandedOver")).isZero();
        });
    }

    @Test
    void aClientsDetachIsRecordedAsTheClients() throws Exception {
        DetachableConnection client = DetachableConnection.forClient(container, side.threads);
        container.connection = client;
        List<RecordedEvent> events = recording(() -> {
            CompletableFuture<DetachedConnection> future = client.detach(BYE, Detach.DEFAULT_TIMEOUT, c -> { });
            client.onInbound(bytes(SERVER_CLOSE_1000));
            container.completeStops();
            future.get(10, TimeUnit.SECONDS).close();
        });

        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.getString("side")).isEqualTo("client");
            assertThat(event.getString("outcome")).isEqualTo("detached");
        });
    }

    @Test
    void aFailedDetachIsRecordedWithTheClassAndMessageOfItsFailure() throws Exception {
        List<RecordedEvent> events = recording(() -> {
            CompletableFuture<DetachedConnection> future = connection.detach(BYE, Duration.ofMillis(50), c -> { });
            assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
        });

        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.getString("scheme")).as("scheme of a container not secure").isEqualTo("ws");
            assertThat(event.getString("outcome")).isEqualTo(TimeoutException.class.getName());
            assertThat(event.getString("failure")).isEqualTo("no close frame from the peer within PT0.05S");
            assertThat(event.getLong("bytesHandedOver")).isZero();
        });
    }

    @Test
    void aDetachThatFailsAtTheHandOverIsRecordedWithTheHandOversFailure() throws Exception {
        container.releaseFailure = new IllegalStateException("release refused by the test");
        List<RecordedEvent> events = recording(() -> {
            CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, c -> { });
            connection.onInbound(bytes(CLOSE_1000));
            container.completeStops();
            assertThatThrownBy(() -> future.get(10, TimeUnit.SECONDS)).hasCause(container.releaseFailure);
        });

        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.getString("outcome")).isEqualTo(IllegalStateException.class.getName());
            assertThat(event.getString("failure")).isEqualTo("release refused by the test");
        });
    }

    @Test
    void aDetachCancelledWhileItsConnectionIsHandedOverIsRecordedAsCancelled() throws Exception {
        List<RecordedEvent> events = recording(() -> {
            CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, c -> { });
            container.onRelease = () -> future.cancel(false);
            connection.onInbound(bytes(CLOSE_1000));
            container.completeStops();
            assertThat(future).isCancelled();
        });

        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.getString("outcome")).isEqualTo(CancellationException.class.getName());
            assertThat(event.getString("failure")).isEqualTo("detach cancelled");
        });
    }

    @Test
    void aTlsHandOverIsRecordedAsWss() throws Exception {
        container.tlsEngine = SSLContext.getDefault().createSSLEngine();
        List<RecordedEvent> events = recording(() -> {
            detachAndHandOver("");
        });

        assertThat(events).singleElement().satisfies(event -> {
            assertThat(event.getString("scheme")).isEqualTo("wss");
            assertThat(event.getString("outcome")).isEqualTo("detached");
        });
    }

    @Test
    void aDetachShorterThanTheRecordingsThresholdIsNotRecordedWhetherItSucceedsOrFails() throws Exception {
        List<RecordedEvent> events = recording(Duration.ofHours(1), () -> {
            detachAndHandOver("");

            FakeServerSide other = new FakeServerSide("jfr-threshold");
            try {
                CompletableFuture<DetachedConnection> failed = other.connection.detach(BYE, Duration.ofMillis(1), c -> { });
                assertThatThrownBy(() -> failed.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
            } finally {
                other.close();
            }
        });

        assertThat(events).isEmpty();
    }

    @Test
    void aDetachLongerThanTheRecordingsThresholdIsRecordedWithItsWholeDuration() throws Exception {
        Duration threshold = Duration.ofMillis(20);
        List<RecordedEvent> events = recording(threshold, () -> {
            long begun = System.nanoTime();
            CompletableFuture<DetachedConnection> detached = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, c -> { });
            // The peer's frames come late, so that each detach lasts past the threshold.
            passes(threshold.multipliedBy(3), begun);
            connection.onInbound(bytes(CLOSE_1000));
            container.completeStops();
            detached.get(10, TimeUnit.SECONDS).close();

            FakeServerSide other = new FakeServerSide("jfr-threshold");
            try {
                begun = System.nanoTime();
                CompletableFuture<DetachedConnection> failed = other.connection.detach(BYE, Detach.DEFAULT_TIMEOUT, c -> { });
                passes(threshold.multipliedBy(3), begun);
                other.connection.onInbound(bytes(UNMASKED_TEXT_HI));
                assertThatThrownBy(() -> failed.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(ProtocolException.class);
            } finally {
                other.close();
            }
        });

        assertThat(events).extracting(event -> event.getString("outcome"))
                .containsExactlyInAnyOrder("detached", ProtocolException.class.getName());
        assertThat(events).allSatisfy(event -> assertThat(event.getDuration()).isGreaterThanOrEqualTo(threshold.multipliedBy(3)));
    }

    @Test
    void withoutARecordingNoEventIsMade() {
        assertThat(DetachRecording.begin(true)).isNull();
    }

    @Test
    void aRecordingThatTurnsTheEventOffGetsNone() {
        // A recording takes the event by default (it is not in the JDK's settings files, so it is enabled).
        try (Recording recording = new Recording()) {
            recording.disable(DetachEvent.NAME);
            recording.start();
            assertThat(DetachRecording.begin(true)).isNull();
        }
    }

    @Test
    void aRuntimeWithoutTheFlightRecordersModuleDetachesAndRecordsNothing() throws Exception {
        Path output = directory.resolve("no-jfr.txt");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--limit-modules", "java.base", "-cp", System.getProperty("java.class.path"),
                DetachWithoutFlightRecorder.class.getName())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the child JVM ended").isTrue();
        } finally {
            child.destroyForcibly();
        }

        assertThat(Files.readString(output)).isEqualTo("handed over hi" + System.lineSeparator());
        assertThat(child.exitValue()).isZero();
    }

    /** Detaches {@link #connection} and hands it over, with {@code tail} (hex) behind the peer's close frame. */
    private void detachAndHandOver(String tail) throws Exception {
        CompletableFuture<DetachedConnection> future = connection.detach(BYE, Detach.DEFAULT_TIMEOUT, c -> { });
        connection.onInbound(bytes(CLOSE_1000 + tail));
        container.completeStops();
        future.get(10, TimeUnit.SECONDS).close();
    }

    /** Returns once {@code duration} has passed since {@code begun} (a {@link System#nanoTime()}). */
    private static void passes(Duration duration, long begun) {
        while (System.nanoTime() - begun < duration.toNanos()) {
            LockSupport.parkNanos(duration.toNanos());
        }
    }

    private interface Scenario {
        void run() throws Exception;
    }

    /** Runs {@code scenario} under a recording of the detach event alone, and returns the events it recorded. */
    private List<RecordedEvent> recording(Scenario scenario) throws Exception {
        return recording(Duration.ZERO, scenario);
    }

    /**
     * The same, with the event's threshold: a recording keeps only the events that lasted at least as long.
     * Each test's events must differ in their strings of 16 characters or more (the outcome's class name, the
     * failure's message) from those of the tests before it: JDK 17's flight recorder pools such strings by a
     * one-bit chunk epoch, so a string written two chunk rotations (one earlier recording) ago is taken as
     * written already, and reads back as null from this recording's file.
     */
    private List<RecordedEvent> recording(Duration threshold, Scenario scenario) throws Exception {
        Path file = directory.resolve("detach.jfr");
        try (Recording recording = new Recording()) {
            recording.enable(DetachEvent.NAME).withThreshold(threshold);
            recording.start();
            scenario.run();
            recording.stop();
            recording.dump(file);
        }
        return RecordingFile.readAllEvents(file).stream()
                .filter(event -> event.getEventType().getName().equals(DetachEvent.NAME))
                .toList();
    }

    private static ByteBuffer bytes(String hex) {
        return ByteBuffer.wrap(HEX.parseHex(hex));
    }
}
