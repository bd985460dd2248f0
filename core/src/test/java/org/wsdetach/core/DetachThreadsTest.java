package org.wsdetach.core;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class DetachThreadsTest {

    @Test
    void theThreadsAreDaemonsNamedAfterTheirOwner() throws Exception {
        DetachThreads threads = DetachThreads.open("threads-test");
        try {
            AtomicReference<Thread> timer = new AtomicReference<>();
            AtomicReference<Thread> io = new AtomicReference<>();
            CountDownLatch ran = new CountDownLatch(2);
            threads.timer.execute(() -> {
                timer.set(Thread.currentThread());
                ran.countDown();
            });
            assertThat(threads.ioLoop.execute(() -> {
                io.set(Thread.currentThread());
                ran.countDown();
            })).isTrue();
            assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(timer.get().getName()).isEqualTo("threads-test-deadlines");
            assertThat(timer.get().isDaemon()).isTrue();
            assertThat(io.get().getName()).isEqualTo("threads-test-io");
            assertThat(io.get().isDaemon()).isTrue();
            assertThat(threads.timer.getRemoveOnCancelPolicy()).isTrue();
        } finally {
            threads.close();
        }
    }

    @Test
    void closingEndsBothThreads() throws Exception {
        DetachThreads threads = DetachThreads.open("threads-test-closed");
        threads.close();
        assertThat(threads.timer.isTerminated()).isTrue();
        assertThat(threads.ioLoop.execute(() -> { })).isFalse();
    }

    @Test
    void closingOnAnInterruptedThreadStillClosesAndKeepsTheInterrupt() throws Exception {
        DetachThreads threads = DetachThreads.open("threads-test-interrupted");
        // A deadline task that outlasts the interrupt, so that close's wait for the timer is what the interrupt cuts.
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        threads.timer.execute(() -> {
            running.countDown();
            boolean interrupted = false;
            while (release.getCount() > 0) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
        try {
            Thread.currentThread().interrupt();
            threads.close();
            assertThat(Thread.interrupted()).isTrue();
            assertThat(threads.timer.isShutdown()).isTrue();
            assertThat(threads.timer.isTerminated()).as("timer terminated while its task runs").isFalse();
            assertThat(threads.ioLoop.execute(() -> { })).isFalse();
        } finally {
            release.countDown();
        }
        assertThat(threads.timer.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void aLoopWhoseSelectorFailsClosesItsConnections() throws Exception {
        IoLoop loop = new IoLoop("threads-test-failing-io");
        CountDownLatch closed = new CountDownLatch(1);
        IoLoop.Member member = new IoLoop.Member() {
            @Override
            public void onReady(int readyOps) {
            }

            @Override
            public void closeQuietly() {
                closed.countDown();
            }
        };
        assertThat(loop.attach(member)).isTrue();
        loop.selector().close();
        assertThat(closed.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(loop.execute(() -> { })).isFalse();
        assertThat(loop.attach(member)).isFalse();
        loop.close();
    }

    @Test
    void theClientsShareOneSet() {
        assertThat(DetachThreads.forClients()).isSameAs(DetachThreads.forClients());
        assertThat(DetachThreads.forClients().ioLoop.execute(() -> { })).isTrue();
    }
}
