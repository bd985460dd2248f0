package org.wsdetach.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static java.lang.Thread.State.TERMINATED;
import static java.lang.Thread.State.TIMED_WAITING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.wsdetach.core.DetachedConnectionTesting.WAIT_SECONDS;
import static org.wsdetach.core.DetachedConnectionTesting.await;
import static org.wsdetach.core.DetachedConnectionTesting.awaitCondition;
import static org.wsdetach.core.DetachedConnectionTesting.awaitLoopAsleepInSelect;
import static org.wsdetach.core.DetachedConnectionTesting.awaitState;
import static org.wsdetach.core.DetachedConnectionTesting.holdLoop;
import static org.wsdetach.core.DetachedConnectionTesting.loopThread;

/**
 * The loop itself, with members that only record what the loop does to them: how it sleeps, and how it
 * closes, whether asked to or because its selector fails. Waits for another thread's state stand where no
 * latch can tell that a close is waiting for the loop thread (it is then in a timed join).
 */
class IoLoopTest {

    private IoLoop loop;
    private Thread loopThread;

    @BeforeEach
    void setUp() throws Exception {
        loop = new IoLoop("io-loop-test");
        loopThread = loopThread(loop);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        loop.close();
        loopThread.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    }

    /** A member that records the thread that closed it. */
    private static final class RecordingMember implements IoLoop.Member {
        final CompletableFuture<Thread> closedOn = new CompletableFuture<>();

        @Override
        public void onReady(int readyOps) {
        }

        @Override
        public void closeQuietly() {
            closedOn.complete(Thread.currentThread());
        }
    }

    @Test
    void anIdleLoopSleepsInSelectRatherThanPolling() {
        assertThat(awaitLoopAsleepInSelect(loopThread)).as("loop thread asleep in select").isTrue();
    }

    @Test
    void closeReturnsOnlyOnceTheLoopThreadHasEnded() throws Exception {
        CompletableFuture<Boolean> aliveAfterClose = new CompletableFuture<>();
        Thread closer = daemon(() -> {
            loop.close();
            aliveAfterClose.complete(loopThread.isAlive());
        });
        // The loop thread cannot end before the closer waits for it, or has (wrongly) returned without.
        assertThat(loop.execute(() -> awaitState(closer, TIMED_WAITING, TERMINATED))).isTrue();
        closer.start();

        assertThat(await(aliveAfterClose)).as("loop thread alive after close()").isFalse();
    }

    @Test
    void aCloseWhoseLoopThreadEndsInTimeLogsNoWarning() {
        try (CoreWarnings warnings = new CoreWarnings()) {
            loop.close();

            assertThat(loopThread.isAlive()).isFalse();
            assertThat(warnings.records()).isEmpty();
        }
    }

    @Test
    void aCloseThatALoopThreadBusyInATaskOutlivesLogsAWarningNamingTheThread() throws Exception {
        IoLoop slow = new IoLoop("io-loop-test-busy", 50);
        CountDownLatch release = holdLoop(slow);
        try (CoreWarnings warnings = new CoreWarnings()) {
            slow.close();

            assertThat(warnings.records()).containsExactly("org.wsdetach.core.IoLoop: I/O loop thread "
                    + "io-loop-test-busy did not end within 50 ms");
        } finally {
            release.countDown();
        }
    }

    @Test
    void closingTheLoopFromItsOwnThreadReturnsWithoutWaitingForItself() {
        CompletableFuture<Void> closeReturned = new CompletableFuture<>();
        assertThat(loop.execute(() -> {
            loop.close();
            closeReturned.complete(null);
        })).isTrue();

        // The loop thread only ever waits with a timeout when it joins itself, for the five seconds in vain.
        awaitCondition(() -> closeReturned.isDone() || loopThread.getState() == TIMED_WAITING);
        assertThat(closeReturned).isDone();
    }

    @Test
    void aSecondCloseReturnsAtOnceWhileTheFirstWaitsForTheLoopThread() throws Exception {
        Thread firstCloser = daemon(loop::close);
        Thread secondCloser = daemon(loop::close);
        CompletableFuture<Thread.State> secondCloserState = new CompletableFuture<>();
        assertThat(loop.execute(() -> {
            awaitState(firstCloser, TIMED_WAITING);
            secondCloser.start();
            secondCloserState.complete(awaitState(secondCloser, TIMED_WAITING, TERMINATED));
        })).isTrue();
        firstCloser.start();

        assertThat(await(secondCloserState)).isEqualTo(TERMINATED);
    }

    @Test
    void closingTheLoopClosesItsMembersOnTheClosingThreadEvenWhileTheLoopThreadIsBusy() throws Exception {
        RecordingMember member = new RecordingMember();
        assertThat(loop.attach(member)).isTrue();
        CountDownLatch release = holdLoop(loop);
        Thread closer = daemon(loop::close);
        closer.start();
        try {
            assertThat(await(member.closedOn)).isSameAs(closer);
        } finally {
            release.countDown();
        }
    }

    @Test
    void aCloseInterruptedWhileWaitingForTheLoopThreadReturnsWithTheInterruptKept() throws InterruptedException {
        CountDownLatch release = holdLoop(loop);
        boolean interruptedAfterClose;
        Thread.currentThread().interrupt();
        try {
            loop.close();
        } finally {
            interruptedAfterClose = Thread.interrupted();
            release.countDown();
        }
        assertThat(interruptedAfterClose).isTrue();
    }

    @Test
    void aTaskAcceptedBeforeTheLoopClosedStillRuns() throws Exception {
        CountDownLatch release = holdLoop(loop);
        CompletableFuture<Void> ran = new CompletableFuture<>();
        assertThat(loop.execute(() -> ran.complete(null))).isTrue();
        Thread closer = daemon(loop::close);
        closer.start();
        // The closer waits for the loop thread once the loop takes no more tasks: only then may the task run.
        assertThat(awaitState(closer, TIMED_WAITING)).isEqualTo(TIMED_WAITING);
        release.countDown();

        assertThat(await(ran)).isNull();
    }

    @Test
    void closingTheLoopClosesItsSelector() {
        loop.close();

        assertThat(loop.selector().isOpen()).isFalse();
    }

    // The selector closed behind the loop's back makes its next select fail, as a broken selector would.

    @Test
    void aLoopWhoseSelectorFailsClosesItsMembersOnItsThread() throws Exception {
        RecordingMember member = new RecordingMember();
        assertThat(loop.attach(member)).isTrue();

        loop.selector().close();

        assertThat(await(member.closedOn)).isSameAs(loopThread);
    }

    @Test
    void aLoopWhoseSelectorFailedTakesNoMoreTasksOrMembers() throws IOException, InterruptedException {
        loop.selector().close();
        loopThread.join(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
        assertThat(loopThread.isAlive()).isFalse();

        assertThat(loop.execute(() -> { })).isFalse();
        assertThat(loop.attach(new RecordingMember())).isFalse();
    }

    private static Thread daemon(Runnable work) {
        Thread thread = new Thread(work, "io-loop-test-closer");
        thread.setDaemon(true);
        return thread;
    }
}
