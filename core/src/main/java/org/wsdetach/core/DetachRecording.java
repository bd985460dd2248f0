package org.wsdetach.core;

/**
 * Reports detaches to JDK Flight Recorder ({@link DetachEvent}, {@value DetachEvent#NAME}). Costs one check per
 * detach while no recording asks for the event: {@link #begin} then returns null, and every later call returns at
 * once on null. Without the {@code jdk.jfr} module (a runtime linked without it, or the module path without
 * {@code --add-modules jdk.jfr}) nothing is ever recorded and {@link DetachEvent} is never loaded.
 */
final class DetachRecording {

    static final String DETACHED = "detached";

    private static final boolean JFR_PRESENT = ModuleLayer.boot().findModule("jdk.jfr").isPresent();

    private DetachRecording() {
    }

    /**
     * A detach is requested.
     *
     * @param local true for {@code Detach.detach}, false for the peer's close frame
     * @return the event, timed from now, or null if no recording asks for it
     */
    static DetachEvent begin(boolean local) {
        if (!JFR_PRESENT) {
            return null;
        }
        DetachEvent event = new DetachEvent();
        if (!event.isEnabled()) {
            return null;
        }
        event.direction = local ? "local" : "peer";
        event.begin();
        return event;
    }

    /** The connection has been handed over, with {@code bytesHandedOver} bytes that followed the peer's close. */
    static void handedOver(DetachEvent event, ContainerConnection container, boolean client, boolean tls,
                           long bytesHandedOver) {
        if (event == null) {
            return;
        }
        event.end();
        if (event.shouldCommit()) {
            describe(event, container, client, tls);
            event.outcome = DETACHED;
            event.bytesHandedOver = bytesHandedOver;
            event.commit();
        }
    }

    /** The detach failed with {@code failure}. */
    static void failed(DetachEvent event, ContainerConnection container, boolean client, Throwable failure) {
        if (event == null) {
            return;
        }
        event.end();
        if (event.shouldCommit()) {
            describe(event, container, client, container.secure());
            event.outcome = failure.getClass().getName();
            event.failure = failure.getMessage();
            event.commit();
        }
    }

    private static void describe(DetachEvent event, ContainerConnection container, boolean client, boolean tls) {
        event.container = container.containerName();
        event.side = client ? "client" : "server";
        event.scheme = tls ? "wss" : "ws";
    }
}
