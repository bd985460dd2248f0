package org.wsdetach.benchmarks.suite;

/**
 * How much the suite measures.
 *
 * @param rounds          the alternating rounds of each ratio (each round measures both sides once)
 * @param roundMillis     how long each side of a timed round (echo, 64 KiB messages) runs
 * @param bulkBytes       the one-way bytes of each bulk round over a detached connection and its baseline
 * @param latencySamples  the detaches (and pings) timed, after {@code latencySamples / 5} untimed ones
 * @param scaleSessions   the sessions of the scale run
 * @param echoConnections the connections of the echo rounds through the container
 */
record Size(int rounds, int roundMillis, long bulkBytes, int latencySamples, int scaleSessions,
            int echoConnections) {

    /** The published figures: about two and a half minutes a container on 2 cores. */
    static final Size FULL = new Size(5, 2000, 256L << 20, 500, 10_000, 4);

    /** Each measurement once, briefly: the build's check that none has rotted. */
    static final Size TINY = new Size(1, 100, 1L << 20, 5, 20, 2);
}
