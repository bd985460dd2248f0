package org.wsdetach.benchmarks.suite;

import java.util.Arrays;

/** The server side's latency samples, in nanoseconds, filled by {@link BenchEndpoint}, read by the suite. */
final class Latencies {

    /** From {@code sendPing} to the pong's {@code @OnMessage}. */
    static final Samples pings = new Samples();
    /** From the {@code Detach.detach} call to the handler's {@code onDetached}. */
    static final Samples detaches = new Samples();

    private Latencies() {
    }

    /** A growing array of samples, written by container threads, read once they are done. */
    static final class Samples {
        private long[] values = new long[1024];
        private int count;

        synchronized void add(long nanos) {
            if (count == values.length) {
                values = Arrays.copyOf(values, count * 2);
            }
            values[count++] = nanos;
        }

        synchronized int count() {
            return count;
        }

        /** @return the samples so far, and forgets them */
        synchronized long[] take() {
            long[] taken = Arrays.copyOf(values, count);
            count = 0;
            return taken;
        }
    }
}
