package org.wsdetach.core;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The {@link DetachThreads} of one web application, opened on first use and closed with the application: a
 * servlet container adapter's, whose applications start without knowing whether they will ever detach.
 * Thread-safe.
 */
public final class OnDemandThreads {

    private final String name;
    private DetachThreads threads;
    private boolean closed;

    /** @param name the prefix of the threads' names, as {@link DetachThreads#open} takes it */
    public OnDemandThreads(String name) {
        this.name = name;
    }

    /**
     * The threads, opened now if they are not yet.
     *
     * @return the threads, or null once {@link #close()} has been called
     * @throws UncheckedIOException if no selector can be opened
     */
    public synchronized DetachThreads get() {
        if (threads == null && !closed) {
            try {
                threads = DetachThreads.open(name);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot open the selector of detached connections", e);
            }
        }
        return threads;
    }

    /** Closes the threads, if they were opened, and with them the detached connections still open. */
    public synchronized void close() {
        closed = true;
        if (threads != null) {
            threads.close();
            threads = null;
        }
    }
}
