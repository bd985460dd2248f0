package org.wsdetach.benchmarks.suite;

import java.util.Arrays;

/** Medians and percentiles of small samples. */
final class Stats {

    private Stats() {
    }

    static double median(double[] values) {
        return percentile(values, 50);
    }

    /** The nearest-rank {@code p}th percentile (the highest value at 100). */
    static double percentile(double[] values, double p) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }

    static double[] micros(long[] nanos) {
        return Arrays.stream(nanos).mapToDouble(n -> n / 1000.0).toArray();
    }
}
