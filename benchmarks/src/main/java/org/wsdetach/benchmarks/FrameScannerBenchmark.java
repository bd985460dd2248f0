package org.wsdetach.benchmarks;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.wsdetach.spi.FrameScanner;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * The cost the adapter adds to every read of every session: finding the frame boundaries of a 64 KiB
 * read of masked client frames. Run with {@code -prof gc} to see that it allocates nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FrameScannerBenchmark {

    private static final int READ_SIZE = 64 * 1024;

    /** Payload bytes per frame: chat-sized messages, and bulk ones. */
    @Param({"20", "4096"})
    int payload;

    private ByteBuffer read;
    private FrameScanner scanner;

    @Setup
    public void fillRead() {
        int headerSize = 2 + (payload > 125 ? 2 : 0) + 4;
        int frames = READ_SIZE / (headerSize + payload);
        read = ByteBuffer.allocateDirect(frames * (headerSize + payload));
        for (int i = 0; i < frames; i++) {
            read.put((byte) 0x82);
            if (payload > 125) {
                read.put((byte) (0x80 | 126)).putShort((short) payload);
            } else {
                read.put((byte) (0x80 | payload));
            }
            read.putInt(0x1234_5678);
            read.position(read.position() + payload);
        }
        read.flip();
        scanner = new FrameScanner(true);
    }

    /** Returns the frame count so that the JIT cannot drop the scan. */
    @Benchmark
    public int scanOneRead() {
        int frames = 0;
        int position = 0;
        int end = read.limit();
        while (position < end) {
            position = scanner.scan(read, position, end);
            if (scanner.frameComplete()) {
                frames++;
            }
        }
        return frames;
    }
}
