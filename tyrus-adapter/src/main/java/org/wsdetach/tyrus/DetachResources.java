package org.wsdetach.tyrus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The threads detaches share: one for deadlines, one loop for the I/O of detached connections. A server
 * has its own, for as long as it runs; all Tyrus clients of the JVM share {@link #forClients()}.
 */
final class DetachResources implements AutoCloseable {

    final ScheduledThreadPoolExecutor timer;
    final IoLoop ioLoop;

    DetachResources(String name) throws IOException {
        timer = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, name + "-deadlines");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        ioLoop = new IoLoop(name + "-io");
    }

    /** Started on the first client detach; its two daemon threads then last as long as the JVM. */
    static DetachResources forClients() {
        return ClientResources.INSTANCE;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        ioLoop.close();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class ClientResources {
        static final DetachResources INSTANCE;

        static {
            try {
                INSTANCE = new DetachResources("wsdetach-client");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the selector of detached client connections", e);
            }
        }
    }
}
