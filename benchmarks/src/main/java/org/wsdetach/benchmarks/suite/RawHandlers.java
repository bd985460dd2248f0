package org.wsdetach.benchmarks.suite;

import org.wsdetach.DetachHandler;
import org.wsdetach.DetachedConnection;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;

/** What the suite's detached connections run: a sink and an echo, never blocking. */
final class RawHandlers {

    /** The buffer of the bulk sink and echo, and of their plain-socket baselines. */
    static final int BULK_BUFFER = 64 * 1024;
    /** The buffer of each of the scale run's echoes: its 1 KiB fits. */
    static final int SCALE_BUFFER = 1024;

    /** Detached connections the handlers hold now (handed over, not yet closed). */
    static final OpenCount open = new OpenCount();

    private RawHandlers() {
    }

    static void closeQuietly(DetachedConnection connection) {
        try {
            connection.close();
        } catch (IOException e) {
            // Closing is all that is left to do with it.
        }
    }

    /**
     * Reads a count (8 bytes, big-endian), then drops that many bytes and writes the count back (8 bytes);
     * closes at the end of the stream.
     */
    static final class Sink implements DetachHandler, CompletionHandler<Integer, Void> {
        private final ByteBuffer buffer;
        private final SinkCount count = new SinkCount();
        private DetachedConnection connection;
        private boolean replying;

        Sink(int bufferSize) {
            buffer = ByteBuffer.allocate(bufferSize);
        }

        @Override
        public void onDetached(DetachedConnection detached) {
            open.increment();
            connection = detached;
            connection.read(buffer, null, this);
        }

        @Override
        public void completed(Integer read, Void unused) {
            if (replying) {
                if (buffer.hasRemaining()) {
                    connection.write(buffer, null, this);
                    return;
                }
                replying = false;
            } else if (read < 0) {
                close();
                return;
            } else if (count.consume(buffer.flip())) {
                replying = true;
                buffer.clear().putLong(count.expected()).flip();
                count.reset();
                connection.write(buffer, null, this);
                return;
            }
            buffer.clear();
            connection.read(buffer, null, this);
        }

        @Override
        public void failed(Throwable failure, Void unused) {
            close();
        }

        private void close() {
            open.decrement();
            closeQuietly(connection);
        }
    }

    /** The sink's protocol, shared with its plain-socket baselines: an 8-byte count, then that many bytes. */
    static final class SinkCount {
        private int headerBytes;
        private long expected;
        private long received;

        /** Takes the bytes {@code read} has. @return whether the count has been reached */
        boolean consume(ByteBuffer read) {
            while (headerBytes < Long.BYTES && read.hasRemaining()) {
                expected = (expected << 8) | (read.get() & 0xff);
                headerBytes++;
            }
            received += read.remaining();
            read.position(read.limit());
            if (headerBytes == Long.BYTES && received > expected) {
                throw new IllegalStateException("more bytes than announced: " + received + " > " + expected);
            }
            return headerBytes == Long.BYTES && received == expected;
        }

        long expected() {
            return expected;
        }

        void reset() {
            headerBytes = 0;
            expected = 0;
            received = 0;
        }
    }

    /** Echoes every byte until the end of the stream, then closes. */
    static final class Echo implements DetachHandler, CompletionHandler<Integer, Void> {
        private final ByteBuffer buffer;
        private DetachedConnection connection;
        private boolean reading = true;

        Echo(int bufferSize) {
            buffer = ByteBuffer.allocate(bufferSize);
        }

        @Override
        public void onDetached(DetachedConnection detached) {
            open.increment();
            connection = detached;
            connection.read(buffer, null, this);
        }

        @Override
        public void completed(Integer count, Void unused) {
            if (reading) {
                if (count < 0) {
                    close();
                    return;
                }
                buffer.flip();
            }
            reading = !buffer.hasRemaining();
            if (reading) {
                buffer.clear();
                connection.read(buffer, null, this);
            } else {
                connection.write(buffer, null, this);
            }
        }

        @Override
        public void failed(Throwable failure, Void unused) {
            close();
        }

        private void close() {
            open.decrement();
            closeQuietly(connection);
        }
    }
}
