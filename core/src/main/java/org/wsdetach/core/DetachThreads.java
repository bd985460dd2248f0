package org.wsdetach.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The two threads that detaches share: one for their deadlines, one I/O loop for the detached connections.
 * A server opens its own when it starts and closes them when it stops, which closes the detached connections
 * still open (their pending operations fail with {@link java.nio.channels.AsynchronousCloseException});
 * the clients of a JVM share {@link #forClients()}. Both threads are daemons named after the owner.
 */
public final class DetachThreads implements AutoCloseable {

    private static final long CLOSE_WAIT_SECONDS = 5;

    final ScheduledThreadPoolExecutor timer;
    final IoLoop ioLoop;

    private DetachThreads(String name) throws IOException {
        ioLoop = new IoLoop(name + "-io");
        timer = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, name + "-deadlines");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
    }

    /**
     * Starts the threads of one server.
     *
     * @param name the prefix of the threads' names, {@code -io} and {@code -deadlines} following it
     * @throws IOException if no selector can be opened
     */
    public static DetachThreads open(String name) throws IOException {
        return new DetachThreads(name);
    }

    /** The threads all clients share, started on first use; they last as long as the JVM. */
    public static DetachThreads forClients() {
        return ClientThreads.INSTANCE;
    }

    /** Closes the detached connections still open, then ends both threads, waiting up to five seconds. */
    @Override
    public void close() {
        timer.shutdownNow();
        ioLoop.close();
        try {
            timer.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class ClientThreads {
        static final DetachThreads INSTANCE;

        static {
            try {
                INSTANCE = new DetachThreads("wsdetach-client");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the selector of detached client connections", e);
            }
        }
    }
}
