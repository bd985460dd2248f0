package org.wsdetach.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.channels.CompletionHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class CompletionsTest {

    private IoLoop loop;

    @BeforeEach
    void setUp() throws IOException {
        loop = new IoLoop("completions-test-io");
    }

    @AfterEach
    void tearDown() {
        loop.close();
    }

    @Test
    void sixteenNestedCompletionsRunInlineAndTheSeventeenthOnTheLoop() throws Exception {
        List<String> threads = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        Completions.deliver(loop, nesting(17, threads, done), null, 0, null);
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        String here = Thread.currentThread().getName();
        synchronized (threads) {
            assertThat(threads).hasSize(17);
            assertThat(threads.subList(0, 16)).containsOnly(here);
            assertThat(threads.get(16)).isEqualTo("completions-test-io");
        }
    }

    @Test
    void onceTheLoopIsClosedEveryCompletionRunsInline() throws Exception {
        loop.close();
        List<String> threads = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        Completions.deliver(loop, nesting(20, threads, done), null, 0, null);
        assertThat(done.getCount()).isZero();
        assertThat(threads).hasSize(20).containsOnly(Thread.currentThread().getName());
    }

    @Test
    void aThreadsFirstCompletionRunsInlineToo() throws Exception {
        List<String> threads = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread fresh = new Thread(() -> Completions.deliver(loop, nesting(1, threads, done), null, 0, null),
                "completions-test-fresh");
        fresh.start();
        fresh.join(10_000);
        assertThat(done.getCount()).isZero();
        synchronized (threads) {
            assertThat(threads).containsExactly("completions-test-fresh");
        }
    }

    @Test
    void aFailureGoesToFailedAndAThrowingHandlerIsContained() {
        List<Object> outcomes = new ArrayList<>();
        IOException failure = new IOException("failed on purpose");
        CompletionHandler<Integer, Object> handler = Completions.erase(new CompletionHandler<Integer, String>() {
            @Override
            public void completed(Integer result, String attachment) {
                outcomes.add(attachment + " " + result);
                throw new IllegalStateException("thrown on purpose by a test handler");
            }

            @Override
            public void failed(Throwable exc, String attachment) {
                outcomes.add(attachment);
                outcomes.add(exc);
            }
        });
        Completions.deliver(loop, handler, "read", 7, null);
        Completions.deliver(loop, handler, "write", 0, failure);
        assertThat(outcomes).containsExactly("read 7", "write", failure);
    }

    /** A handler that delivers the next completion from within its own, {@code depth} in all. */
    private CompletionHandler<Integer, Object> nesting(int depth, List<String> threads, CountDownLatch done) {
        return new CompletionHandler<>() {
            @Override
            public void completed(Integer level, Object attachment) {
                synchronized (threads) {
                    threads.add(Thread.currentThread().getName());
                }
                if (level + 1 < depth) {
                    Completions.deliver(loop, this, null, level + 1, null);
                } else {
                    done.countDown();
                }
            }

            @Override
            public void failed(Throwable failure, Object attachment) {
            }
        };
    }
}
