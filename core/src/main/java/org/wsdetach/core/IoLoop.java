package org.wsdetach.core;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One selector thread serving detached connections ({@link Member}s), independent of the container's own I/O
 * threads so that a detached connection keeps working however the container schedules its work.
 *
 * <p>Closing the loop closes every connection still attached to it: their pending operations fail with
 * {@link java.nio.channels.AsynchronousCloseException}, on the loop thread as it winds down. Work
 * {@linkplain #execute submitted} after that is rejected ({@code execute} returns {@code false}) rather
 * than queued for a thread that will never run it; connections then fail the affected operation with a
 * {@link java.nio.channels.ClosedChannelException} (or deliver its result on the calling thread when the
 * operation had already completed).
 */
final class IoLoop implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(IoLoop.class.getName());

    /** A connection the loop serves: the attachment of its selection key, closed when the loop closes. */
    interface Member {
        /** Loop thread: the selector reports the member's channel ready for {@code readyOps}. */
        void onReady(int readyOps);

        /** Closes the member, failing its pending operations; never throws. */
        void closeQuietly();
    }
    private static final long CLOSE_WAIT_MILLIS = 5_000;

    private final long closeWaitMillis;

    private final Selector selector;
    private final Thread thread;
    private final Set<Member> connections = ConcurrentHashMap.newKeySet();
    private final Consumer<SelectionKey> dispatcher = this::dispatch;
    private final AtomicBoolean closeRequested = new AtomicBoolean();

    /** Guards {@link #queued} and the transition of {@link #closed}. */
    private final Object taskLock = new Object();
    private ArrayDeque<Runnable> queued = new ArrayDeque<>();
    /** Loop-thread only: the batch being run, swapped with {@link #queued} so tasks run without the lock. */
    private ArrayDeque<Runnable> running = new ArrayDeque<>();
    /** Set under {@link #taskLock}; from then on no task or connection is accepted. */
    private volatile boolean closed;

    IoLoop(String threadName) throws IOException {
        this(threadName, CLOSE_WAIT_MILLIS);
    }

    /** A loop whose {@link #close()} waits up to {@code closeWaitMillis} for its thread, for the tests. */
    IoLoop(String threadName, long closeWaitMillis) throws IOException {
        Objects.requireNonNull(threadName, "threadName");
        this.closeWaitMillis = closeWaitMillis;
        selector = Selector.open();
        thread = new Thread(this::run, threadName);
        // The loop must not keep an application alive on its own; close() is the orderly way out.
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Runs {@code task} on the loop thread soon. Exceptions thrown by the task are logged.
     *
     * @return {@code false}, without running the task, if the loop is closed
     */
    boolean execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        synchronized (taskLock) {
            if (closed) {
                return false;
            }
            queued.add(task);
        }
        // The loop thread checks the queue before selecting, so it needs no wake-up call for its own tasks.
        if (!inLoop()) {
            selector.wakeup();
        }
        return true;
    }

    boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** The loop's selector; channels may only be registered with it from the loop thread. */
    Selector selector() {
        return selector;
    }

    /** Makes a blocked select return, so that interest changes and cancelled keys take effect now. */
    void wakeup() {
        selector.wakeup();
    }

    /**
     * Makes {@code connection} one that {@link #close()} closes.
     *
     * @return {@code false} if the loop is already closed
     */
    boolean attach(Member connection) {
        synchronized (taskLock) {
            // Under the lock so that close() cannot miss a connection attached while it runs.
            if (closed) {
                return false;
            }
            connections.add(connection);
            return true;
        }
    }

    void detach(Member connection) {
        connections.remove(connection);
    }

    /**
     * Closes the attached connections, stops the loop thread and waits up to five seconds (or the wait given to
     * the constructor) for it to end (unless called from the loop thread itself, which ends once the current
     * task returns). A thread that outlives the wait is logged at WARNING.
     */
    @Override
    public void close() {
        if (!closeRequested.compareAndSet(false, true)) {
            return;
        }
        // Before the loop stops taking tasks, so that the failed handlers still run on the loop thread.
        closeConnections();
        markClosed();
        selector.wakeup();
        if (inLoop()) {
            return;
        }
        try {
            thread.join(closeWaitMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (thread.isAlive()) {
            LOG.log(Level.WARNING, "I/O loop thread {0} did not end within {1} ms",
                    thread.getName(), closeWaitMillis);
        }
    }

    private void markClosed() {
        synchronized (taskLock) {
            closed = true;
        }
    }

    private void closeConnections() {
        for (Member connection : connections) {
            connection.closeQuietly();
        }
    }

    private void run() {
        try {
            while (!closed) {
                runTasks();
                if (hasQueuedTasks()) {
                    selector.selectNow(dispatcher);
                } else {
                    selector.select(dispatcher);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.ERROR, "I/O loop " + thread.getName() + " failed; closing its connections", e);
        } finally {
            markClosed();
            closeConnections();
            // Tasks accepted before the loop closed may carry outcomes that a handler is waiting for; no
            // task can be added any more, so this drain is the last one needed.
            runTasks();
            try {
                selector.close();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, "Closing the selector failed", e);
            }
        }
    }

    private boolean hasQueuedTasks() {
        synchronized (taskLock) {
            return !queued.isEmpty();
        }
    }

    private void runTasks() {
        ArrayDeque<Runnable> batch;
        synchronized (taskLock) {
            batch = queued;
            queued = running;
            running = batch;
        }
        // Only this batch: tasks it submits wait for the next round, after a select, so that a handler
        // that keeps resubmitting work cannot starve the other connections' I/O.
        for (Runnable task = batch.poll(); task != null; task = batch.poll()) {
            try {
                task.run();
            } catch (Throwable t) {
                LOG.log(Level.ERROR, "Task on I/O loop " + thread.getName() + " failed", t);
            }
        }
    }

    private void dispatch(SelectionKey key) {
        try {
            if (key.isValid() && key.attachment() instanceof Member connection) {
                connection.onReady(key.readyOps());
            }
        } catch (CancelledKeyException e) {
            // Closed by an earlier handler in this same round: nothing left to serve.
        } catch (Throwable t) {
            LOG.log(Level.ERROR, "I/O event handling on " + thread.getName() + " failed", t);
        }
    }
}
