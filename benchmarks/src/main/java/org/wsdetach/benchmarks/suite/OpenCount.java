package org.wsdetach.benchmarks.suite;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** How many detached connections the suite's handlers hold, and a wait for a given number. */
final class OpenCount {

    private int open;

    synchronized void increment() {
        open++;
        notifyAll();
    }

    synchronized void decrement() {
        open--;
        notifyAll();
    }

    synchronized int get() {
        return open;
    }

    /** Waits up to {@code timeout} until the count is {@code expected}. */
    synchronized void await(int expected, long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (open != expected) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException("handlers hold " + open + " connections, not " + expected);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }
}
