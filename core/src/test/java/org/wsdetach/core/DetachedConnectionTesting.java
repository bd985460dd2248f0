package org.wsdetach.core;

import jakarta.websocket.CloseReason;
import org.wsdetach.DetachedConnection;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Deque;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the tests of the detached connections, over TCP and over TLS, share: the container's stand-ins,
 * an echo, a recording handler, and the waits, reads and writes they drive a {@link DetachedConnection} with.
 */
final class DetachedConnectionTesting {

    /** How long any one wait of a test may take. */
    static final long WAIT_SECONDS = 10;
    static final int SO_TIMEOUT_MILLIS = 10_000;
    static final CloseReason PEER_REASON = new CloseReason(CloseReason.CloseCodes.NORMAL_CLOSURE, "detach");

    private DetachedConnectionTesting() {
    }

    /** Stands for the container's connection object. */
    record NativeConnection(String id) {
    }

    /** A TCP connection over loopback: the peer's blocking socket, and the accepted channel, non-blocking. */
    record LoopbackPair(Socket peer, SocketChannel channel) {

        /** Connects one; the listening socket, the peer and the channel are pushed onto {@code resources}. */
        static LoopbackPair open(Deque<AutoCloseable> resources) throws IOException {
            ServerSocketChannel server = ServerSocketChannel.open();
            resources.push(server);
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            Socket peer = new Socket();
            resources.push(peer);
            peer.connect(server.getLocalAddress(), SO_TIMEOUT_MILLIS);
            SocketChannel channel = server.accept();
            resources.push(channel);
            channel.configureBlocking(false);
            return new LoopbackPair(peer, channel);
        }
    }

    /** Records the outcome of one operation. */
    static final class Recorder implements CompletionHandler<Integer, Object> {
        final CompletableFuture<Integer> result = new CompletableFuture<>();
        final CompletableFuture<Throwable> failure = new CompletableFuture<>();
        volatile Object attachment;
        volatile String thread;

        @Override
        public void completed(Integer n, Object attachment) {
            this.attachment = attachment;
            thread = Thread.currentThread().getName();
            result.complete(n);
        }

        @Override
        public void failed(Throwable failure, Object attachment) {
            this.attachment = attachment;
            thread = Thread.currentThread().getName();
            this.failure.complete(failure);
        }
    }

    /** A write left pending because the peer does not read and its buffers are full. */
    record PendingWrite(Future<Integer> future, long writtenBefore, long sent) {
    }

    /** Writes {@code chunk} again and again until one write stays pending. */
    static PendingWrite writeUntilPending(DetachedConnection connection, ByteBuffer chunk) throws Exception {
        long written = 0;
        for (int attempt = 0; attempt < 1_000; attempt++) {
            chunk.clear();
            Future<Integer> write = connection.write(chunk);
            if (!write.isDone()) {
                return new PendingWrite(write, written, written + chunk.capacity());
            }
            written += await(write);
        }
        throw new AssertionError("no write stayed pending after " + written + " bytes");
    }

    /**
     * Echoes over {@code connection} until the end of its stream while {@code send} writes to the peer on
     * another thread, and returns what the peer reads back up to its end of stream, once both have ended.
     */
    static byte[] echoWhileSending(DetachedConnection connection, InputStream peerIn, Callable<Void> send)
            throws Exception {
        Echo echo = new Echo(connection, ByteBuffer.allocateDirect(64 << 10));
        echo.start();
        CompletableFuture<Void> sending = background(send);
        byte[] echoed = peerIn.readAllBytes();

        await(sending);
        await(echo.done);
        return echoed;
    }

    /** Echoes everything it reads until the end of the stream, then shuts its output down. */
    private static final class Echo {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        private final DetachedConnection connection;
        private final ByteBuffer buffer;

        private final CompletionHandler<Integer, Void> afterRead = new CompletionHandler<>() {
            @Override
            public void completed(Integer n, Void unused) {
                if (n < 0) {
                    try {
                        connection.shutdownOutput();
                        done.complete(null);
                    } catch (IOException e) {
                        done.completeExceptionally(e);
                    }
                    return;
                }
                buffer.flip();
                connection.write(buffer, null, afterWrite);
            }

            @Override
            public void failed(Throwable failure, Void unused) {
                done.completeExceptionally(failure);
            }
        };

        private final CompletionHandler<Integer, Void> afterWrite = new CompletionHandler<>() {
            @Override
            public void completed(Integer n, Void unused) {
                if (buffer.hasRemaining()) {
                    connection.write(buffer, null, this);
                } else {
                    start();
                }
            }

            @Override
            public void failed(Throwable failure, Void unused) {
                done.completeExceptionally(failure);
            }
        };

        Echo(DetachedConnection connection, ByteBuffer buffer) {
            this.connection = connection;
            this.buffer = buffer;
        }

        void start() {
            buffer.clear();
            connection.read(buffer, null, afterRead);
        }
    }

    /** Closes {@code connection} from two threads at once, then once more from this one. */
    static void closeFromTwoThreadsAtOnceThenAgain(DetachedConnection connection) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        Callable<Void> closer = () -> {
            start.await();
            connection.close();
            return null;
        };
        CompletableFuture<Void> first = background(closer);
        CompletableFuture<Void> second = background(closer);
        start.countDown();
        await(first);
        await(second);
        connection.close();
    }

    /** Returns once {@code loop} has run a task queued after everything queued so far. */
    static void awaitLoopRound(IoLoop loop) throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(1);
        assertThat(loop.execute(ran::countDown)).isTrue();
        assertThat(ran.await(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    }

    /** The thread of {@code loop}, found by running a task on it. */
    static Thread loopThread(IoLoop loop) throws Exception {
        CompletableFuture<Thread> thread = new CompletableFuture<>();
        assertThat(loop.execute(() -> thread.complete(Thread.currentThread()))).isTrue();
        return await(thread);
    }

    /**
     * Waits until {@code loopThread} blocks in {@link java.nio.channels.Selector#select} (in native code, as
     * once it has taken in the interest changes made so far), so that only a wake-up or an event can move it
     * on; {@code false} if it did not within the wait.
     */
    static boolean awaitLoopAsleepInSelect(Thread loopThread) {
        return awaitCondition(() -> sleepsInSelect(loopThread.getStackTrace()));
    }

    private static boolean sleepsInSelect(StackTraceElement[] frames) {
        if (frames.length == 0 || !frames[0].isNativeMethod()) {
            return false;
        }
        for (int i = 1; i < frames.length; i++) {
            if (frames[i].getClassName().equals(IoLoop.class.getName()) && frames[i].getMethodName().equals("run")) {
                return frames[i - 1].getMethodName().equals("select");
            }
        }
        return false;
    }

    /** Waits until {@code thread} is in one of {@code states}, and returns the state it was last seen in. */
    static Thread.State awaitState(Thread thread, Thread.State... states) {
        Set<Thread.State> wanted = Set.of(states);
        awaitCondition(() -> wanted.contains(thread.getState()));
        return thread.getState();
    }

    /**
     * Spins until {@code condition} holds, for conditions that no latch can signal (another thread's state);
     * {@code false} if it did not within the wait.
     */
    static boolean awaitCondition(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.onSpinWait();
        }
        return true;
    }

    /**
     * Holds the loop thread in a task, from before this returns until the returned latch is counted down (or
     * the wait ends), so that what is queued meanwhile runs only after it, in a later batch.
     */
    static CountDownLatch holdLoop(IoLoop loop) throws InterruptedException {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        assertThat(loop.execute(() -> {
            held.countDown();
            awaitQuietly(release);
        })).isTrue();
        assertThat(held.await(WAIT_SECONDS, TimeUnit.SECONDS)).as("loop held").isTrue();
        return release;
    }

    /**
     * Waits for {@code latch} within the wait, keeping an interrupt, for code that may throw no
     * {@link InterruptedException}: an engine's or a channel's method, a loop task.
     */
    static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reads exactly {@code length} bytes through {@code buffer}, failing at an end of stream before them. */
    static byte[] readExactly(DetachedConnection connection, int length, ByteBuffer buffer) throws Exception {
        byte[] result = new byte[length];
        int filled = 0;
        while (filled < length) {
            buffer.clear();
            buffer.limit(Math.min(buffer.capacity(), length - filled));
            int n = await(connection.read(buffer));
            assertThat(n).as("bytes read after %d", filled).isPositive();
            buffer.flip();
            buffer.get(result, filled, n);
            filled += n;
        }
        return result;
    }

    static void writeFully(DetachedConnection connection, ByteBuffer src) throws Exception {
        while (src.hasRemaining()) {
            await(connection.write(src));
        }
    }

    /** The byte at {@code index} of a stream whose order can be checked. */
    static byte pattern(long index) {
        return (byte) (index % 251);
    }

    static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** Runs {@code work} on a new daemon thread, as the peer or another caller would. */
    static <T> CompletableFuture<T> background(Callable<T> work) {
        CompletableFuture<T> future = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                future.complete(work.call());
            } catch (Throwable t) {
                future.completeExceptionally(t);
            }
        }, "detached-connection-test-peer");
        thread.setDaemon(true);
        thread.start();
        return future;
    }

    static <T> T await(Future<T> future) throws InterruptedException, ExecutionException, TimeoutException {
        return future.get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    /** Closes what a test opened, the last opened first. */
    static void closeAll(Deque<AutoCloseable> resources) throws Exception {
        while (!resources.isEmpty()) {
            resources.pop().close();
        }
    }
}
