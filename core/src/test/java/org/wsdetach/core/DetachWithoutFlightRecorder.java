package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import jakarta.websocket.CloseReason.CloseCodes;
import org.wsdetach.Detach;
import org.wsdetach.DetachedConnection;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What {@link DetachEventTest} runs in a JVM of its own limited to {@code java.base}: a whole local detach, which
 * must not need the flight recorder's classes. Prints what it handed over; fails with a stack trace otherwise.
 */
final class DetachWithoutFlightRecorder {

    private DetachWithoutFlightRecorder() {
    }

    public static void main(String[] args) throws Exception {
        if (ModuleLayer.boot().findModule("jdk.jfr").isPresent()) {
            throw new IllegalStateException("jdk.jfr is in the boot layer: run with --limit-modules java.base");
        }
        try (FakeServerSide side = new FakeServerSide("no-jfr")) {
            CompletableFuture<DetachedConnection> future = side.connection
                    .detach(new CloseReason(CloseCodes.NORMAL_CLOSURE, "bye"), Detach.DEFAULT_TIMEOUT, c -> { });
            // The client's close frame 1000 (masked with the key 00000000), then "hi".
            side.connection.onInbound(ByteBuffer.wrap(HexFormat.of().parseHex("88820000000003e8" + "6869")));
            side.container.completeStops();
            try (DetachedConnection detached = future.get(10, TimeUnit.SECONDS)) {
                ByteBuffer tail = ByteBuffer.allocate(2);
                detached.read(tail).get(10, TimeUnit.SECONDS);
                System.out.println("handed over " + new String(tail.array(), StandardCharsets.US_ASCII));
            }
        }
    }
}
