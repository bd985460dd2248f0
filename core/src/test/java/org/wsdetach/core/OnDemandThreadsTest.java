package org.wsdetach.core;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OnDemandThreadsTest {

    private static long threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.isAlive() && thread.getName().startsWith(prefix)).count();
    }

    @Test
    void noThreadStartsBeforeFirstUseAndOneSetServesEveryUse() {
        OnDemandThreads threads = new OnDemandThreads("on-demand-a");
        assertThat(threadsNamed("on-demand-a")).isZero();
        DetachThreads first = threads.get();
        assertThat(threads.get()).isSameAs(first);
        assertThat(threadsNamed("on-demand-a-io")).isEqualTo(1);
        threads.close();
    }

    @Test
    void afterCloseTheThreadsAreGoneAndNoneStartAgain() {
        OnDemandThreads threads = new OnDemandThreads("on-demand-b");
        threads.get();
        threads.close();
        assertThat(threads.get()).isNull();
        assertThat(threadsNamed("on-demand-b-io")).isZero();
    }
}
