package org.wsdetach.demo;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * An endless byte stream for the raw echo: a block of pseudo-random bytes, repeated. Two instances with
 * the same seed agree however the stream is cut into calls, so one produces what is sent and the other
 * checks what comes back, without holding the whole transfer in memory.
 */
final class RepeatingRandomBytes {

    /*
     * Prime, so that no buffer of a power-of-two size is a whole number of periods: a buffer lost,
     * repeated or swapped on the way shifts the stream and shows up as a mismatch.
     */
    private static final int PERIOD = 1_048_573;

    private final byte[] block = new byte[PERIOD];
    private int position;

    RepeatingRandomBytes(long seed) {
        new SplittableRandom(seed).nextBytes(block);
    }

    void fill(byte[] destination, int offset, int length) {
        while (length > 0) {
            int count = Math.min(length, PERIOD - position);
            System.arraycopy(block, position, destination, offset, count);
            advance(count);
            offset += count;
            length -= count;
        }
    }

    /**
     * Compares the next {@code length} bytes of the stream with {@code actual}.
     *
     * @return the index, relative to {@code offset}, of the first byte that differs, or -1
     */
    int mismatch(byte[] actual, int offset, int length) {
        int checked = 0;
        while (checked < length) {
            int count = Math.min(length - checked, PERIOD - position);
            int at = Arrays.mismatch(block, position, position + count,
                    actual, offset + checked, offset + checked + count);
            if (at >= 0) {
                return checked + at;
            }
            advance(count);
            checked += count;
        }
        return -1;
    }

    private void advance(int count) {
        position = (position + count) % PERIOD;
    }
}
